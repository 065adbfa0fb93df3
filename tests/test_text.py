from pricer_core.data.text import jaccard, normalise_title, strip_scaffolding, title_words


def test_normalise_title_collapses_non_alphanumerics():
    assert normalise_title("  Bose QC-35 (II) -- Black!! ") == "bose qc 35 ii black"


def test_jaccard_of_word_sets():
    assert jaccard(title_words("a b c d"), title_words("a b c d e")) == 0.8
    assert jaccard(title_words("a b"), title_words("c d")) == 0.0


def test_strip_scaffolding_removes_question_and_answer():
    prompt = "How much does this cost to the nearest dollar?\n\nDrill\nCordless\n\nPrice is $1,299.00"
    assert strip_scaffolding(prompt) == "Drill\nCordless"
    assert strip_scaffolding("How much does this cost?\n\nLamp") == "Lamp"
