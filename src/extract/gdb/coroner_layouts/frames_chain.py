"""The walk of a thread's Python frames from the newest to the oldest, shared by every version.

A frames feature says where the newest frame is (current_frame), how many bytes of a frame to
read (frame_size), and what one frame gives (step: it appends what the frame shows, and returns
the address of the next, older one). The loop, its bounds and its warnings are here once.
"""
import struct

from coroner_mem import BadRead, u64_at

MAX_FRAMES = 100000  # a Python stack deeper than this is a corrupt chain
# What reading a frame's code object or locals raises on damaged memory.
FRAME_ERRORS = (BadRead, ValueError, UnicodeError, struct.error)


def unknown_frame(is_entry):
    """What stands for a frame whose code object cannot be read."""
    return {"function": "<unknown>", "file": "<unknown>", "line": 0, "is_entry": is_entry, "locals": []}


class FrameChain:
    def python_frames(self, tstate, warn):
        """[{"function", "file", "line", "is_entry", "locals": [(name, kind, addr)]}], innermost
        first; locals hold object addresses, a cell's contents already read."""
        frames = []
        try:
            frame = self.current_frame(tstate)
        except BadRead as e:
            warn("thread state 0x%x: cannot read its current frame: %s" % (tstate, e))
            return frames
        seen = set()
        size = self.frame_size()
        while frame:
            if frame in seen or len(seen) >= MAX_FRAMES:
                warn("thread state 0x%x: frame chain loops or is too long at 0x%x" % (tstate, frame))
                break
            seen.add(frame)
            try:
                raw = self.mem.read(frame, size)
            except BadRead:
                warn("thread state 0x%x: unreadable frame at 0x%x" % (tstate, frame))
                break
            try:
                frame = self.step(frame, raw, frames)
            except FrameStepError as e:
                warn("thread state 0x%x: frame at 0x%x has an unreadable code object: %s" % (tstate, frame, e.cause))
                frames.append(unknown_frame(e.is_entry))
                frame = e.previous
        return frames


class FrameStepError(Exception):
    """A frame whose code object could not be read: the walk notes it and goes on to `previous`."""

    def __init__(self, cause, previous, is_entry):
        Exception.__init__(self, str(cause))
        self.cause = cause
        self.previous = previous
        self.is_entry = is_entry


class FrameObjectChain(FrameChain):
    """Before 3.11 (2.7 included): PyFrameObject objects linked by f_back from tstate->frame. Each
    is run by a call of the evaluation function of its own, so every frame is an entry frame.
    A subclass has self.mem, self.ts (PyThreadState), self.fo (PyFrameObject), _code and _frame."""

    def current_frame(self, tstate):
        return self.mem.u64(tstate + self.ts["frame"])

    def frame_size(self):
        # Up to the fast locals, which _frame reads as many as the code object says.
        return self.fo["f_localsplus"]

    def step(self, frame, raw, frames):
        previous = u64_at(raw, self.fo["f_back"])
        try:
            frames.append(self._frame(frame, raw, self._code(u64_at(raw, self.fo["f_code"]))))
        except FRAME_ERRORS as e:
            raise FrameStepError(e, previous, True) from e
        return previous
