"""Hand blocks of lines to forked worker processes through shared memory instead of a pipe.

Through a pipe a block is pickled, copied into the kernel and back in 64 KB pieces, and unpickled.
Here the reader decompresses straight into a slot of an anonymous shared mapping and a worker
copies it out once. The mapping is made before the pool forks, so the workers inherit it (no
/dev/shm file, no size limit of its own); only a small `SlotRef` crosses the pipe.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from pricer_core.curation.line_blocks import MAX_LINE_BYTES, OVERLONG_LINE

BLOCK_BYTES = 4 << 20


@dataclass(frozen=True)
class SlotRef:
    """Where a block of whole lines waits in the ring."""

    slot: int
    length: int


class BlockRing:
    """A fixed number of equal slots; the parent fills and releases them, forked workers read them."""

    def __init__(self, slots: int, slot_bytes: int):
        if slots < 1 or slot_bytes < 1:
            raise ValueError("a ring needs at least one slot of at least one byte")
        self.slot_bytes = slot_bytes
        self._memory = mmap.mmap(-1, slots * slot_bytes)
        self._free = list(range(slots - 1, -1, -1))

    def has_free_slot(self) -> bool:
        return bool(self._free)

    def fill(self, handle: BinaryIO, carry: bytes) -> tuple[SlotRef | None, bytes, bool]:
        """Put `carry` and then as much of `handle` as fits into a free slot.

        Returns (the slot's whole lines, the partial line left over, end of file reached). The ref
        is None when nothing was read or when one line is longer than a slot: the leftover then
        holds it all and the caller sends it another way. A read that fails (a truncated gzip)
        raises its own error, with the slot free again.
        """
        if len(carry) > self.slot_bytes:
            raise ValueError("the leftover of a fill never exceeds a slot")
        slot = self._free.pop()
        start = slot * self.slot_bytes
        memory = memoryview(self._memory)
        view = memory[start : start + self.slot_bytes]
        try:
            view[: len(carry)] = carry
            filled = len(carry)
            at_end = False
            while filled < self.slot_bytes and not at_end:
                target = view[filled:]
                try:
                    count = handle.readinto(target)
                finally:
                    target.release()  # a traceback that still held it would keep the mapping open
                at_end = not count
                filled += count or 0
            newline = self._memory.rfind(b"\n", start, start + filled)
            end = filled if at_end else (newline + 1 - start if newline >= 0 else 0)
            leftover = bytes(view[end:filled])
        except BaseException:
            self._free.append(slot)
            raise
        finally:
            # Released on every path: a view left exported would make close() raise BufferError
            # and hide the real error.
            view.release()
            memory.release()
        if end == 0:
            self._free.append(slot)
            return None, leftover, at_end
        return SlotRef(slot, end), leftover, at_end

    def blocks(self, handle: BinaryIO) -> Iterator[SlotRef | bytes]:
        """The whole file as blocks of whole lines: slots, or bytes for a line longer than a slot.

        Each SlotRef holds a slot until `release`; ask for the next block only with a slot free.
        """
        carry = b""
        at_end = False
        while not at_end:
            ref, carry, at_end = self.fill(handle, carry)
            if ref is not None:
                yield ref
            elif carry:
                line = carry + handle.readline(max(1, MAX_LINE_BYTES - len(carry) + 1))
                if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                    while (rest := handle.readline(1 << 20)) and not rest.endswith(b"\n"):
                        pass  # the rest of an overlong line, a chunk at a time: memory stays bounded
                    line = OVERLONG_LINE + b"\n"
                yield line
                carry = b""

    def read(self, ref: SlotRef) -> bytes:
        start = ref.slot * self.slot_bytes
        return self._memory[start : start + ref.length]

    def release(self, slot: int) -> None:
        """The block in `slot` was read and its result consumed: the slot may be reused."""
        self._free.append(slot)

    def close(self) -> None:
        self._memory.close()
