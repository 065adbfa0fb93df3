"""`GET /`: a page where a person pastes a product and reads its price, with no build step.

Plain HTML with native controls (labels, a form, a live region), so the keyboard alone drives it:
Enter in the title prices it, Ctrl+Enter does from the description. The script is a few lines that
post to /predict; its hash and the style's are the only ones the Content-Security-Policy allows.
"""

from __future__ import annotations

import base64
import hashlib
import html

STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #1b1b1b; }
label { display: block; font-weight: 600; margin-top: 1rem; }
input, textarea { width: 100%; font: inherit; padding: .4rem; box-sizing: border-box; }
textarea { min-height: 8rem; }
button { margin-top: 1rem; font: inherit; padding: .4rem 1.2rem; }
:focus-visible { outline: 3px solid #1a56db; outline-offset: 2px; }
#price { font-size: 2rem; font-weight: 700; margin: 1rem 0 0; }
.error { color: #b00020; font-size: 1rem !important; }
.hint { color: #555; font-size: .9rem; font-weight: normal; }
"""

SCRIPT = """
const form = document.getElementById("ask");
const price = document.getElementById("price");
const range = document.getElementById("interval");
const dollars = (value) => "$" + value.toLocaleString("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2});
document.getElementById("description").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); form.requestSubmit(); }
});
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  price.className = ""; price.textContent = "Pricing…"; range.textContent = "";
  const headers = {"Content-Type": "application/json"};
  const token = document.getElementById("token");
  if (token && token.value) headers.Authorization = "Bearer " + token.value;
  const body = {title: document.getElementById("title").value, description: document.getElementById("description").value};
  try {
    const reply = await fetch("predict", {method: "POST", headers, body: JSON.stringify(body)});
    const answer = await reply.json().catch(() => ({detail: reply.status + " " + reply.statusText}));
    if (!reply.ok) throw new Error(answer.detail || reply.statusText);
    price.textContent = dollars(answer.price);
    range.textContent = answer.interval
      ? Math.round(answer.interval.level * 100) + "% interval: " + dollars(answer.interval.low) + " to " + dollars(answer.interval.high)
      : "This model gives no interval.";
  } catch (error) {
    price.className = "error"; price.textContent = "Could not price it: " + error.message;
  }
});
"""

TOKEN_FIELD = """
<label for="token">Access token <span class="hint">(this server asks for one)</span></label>
<input id="token" name="token" type="password" autocomplete="off">
"""

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pricer: price a product</title>
<style>{style}</style>
</head>
<body>
<main>
<h1>Price a product</h1>
<p class="hint">Model: {model}. Press Enter in the title, or Ctrl+Enter in the description, to price it.</p>
<form id="ask">
<label for="title">Title</label>
<input id="title" name="title" required autofocus autocomplete="off" maxlength="2000">
<label for="description">Description <span class="hint">(optional: paste the product page's text)</span></label>
<textarea id="description" name="description"></textarea>
{token}
<button type="submit">Price it</button>
</form>
<section id="answer" role="status" aria-live="polite">
<p id="price"></p>
<p id="interval"></p>
</section>
</main>
<script>{script}</script>
</body>
</html>
"""


def _hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def render_page(model: dict[str, str | None], asks_token: bool) -> tuple[str, dict[str, str]]:
    """The page's HTML for this model, and the headers that let only its own script and style run."""
    name = " ".join(str(part) for part in (model.get("name"), model.get("plugin"), model.get("version")) if part)
    page = PAGE.format(style=STYLE, script=SCRIPT, model=html.escape(name), token=TOKEN_FIELD if asks_token else "")
    policy = (
        f"default-src 'none'; script-src '{_hash(SCRIPT)}'; style-src '{_hash(STYLE)}'; connect-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    return page, {"Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
