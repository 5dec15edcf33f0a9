"""The limits an uploaded file is held to, how a size is written for people, and the refusal
a check gives when a file breaks a rule."""
from __future__ import annotations

MAX_UNZIPPED = 200 * 1024 * 1024  # an Office document, unzipped; a PDF's object streams, inflated
ACCEPTED = "只接受 JPEG、PNG、WebP、HEIC 照片，以及 PDF、Word、Excel、PowerPoint（.docx/.xlsx/.pptx）文档"


class Refusal(Exception):
    """The file is not accepted; `message` (Chinese) says why, naming what was found."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message



def human_size(n: int) -> str:
    for unit, step in (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("KB", 1024)):
        if n >= step:
            return f"{n / step:.1f} {unit}"
    return f"{n} B"
