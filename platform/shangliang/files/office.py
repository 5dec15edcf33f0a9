"""Office documents (OOXML): a .docx/.xlsx/.pptx and nothing else; the zip's declared sizes are
checked before anything is unzipped."""
from __future__ import annotations

import re
import zipfile
from typing import BinaryIO

from .limits import ACCEPTED, MAX_UNZIPPED, Refusal, human_size

MAX_RATIO = 100  # a part compressed more than 100:1 is not text or XML, it is a bomb
MAX_PARTS = 5000
OOXML = {  # main part content type → (extension, folder of its parts, stored content type)
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml":
        ("docx", "word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml":
        ("xlsx", "xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml":
        ("pptx", "ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
}
MACRO_TYPES = {"application/vnd.ms-word.document.macroEnabled.main+xml": "docm",
               "application/vnd.ms-word.template.macroEnabledTemplate.main+xml": "dotm",
               "application/vnd.ms-excel.sheet.macroEnabled.main+xml": "xlsm",
               "application/vnd.ms-excel.template.macroEnabled.main+xml": "xltm",
               "application/vnd.ms-excel.addin.macroEnabled.main+xml": "xlam",
               "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml": "pptm",
               "application/vnd.ms-powerpoint.slideshow.macroEnabled.main+xml": "ppsm",
               "application/vnd.ms-office.vbaProject": "vba"}


def check_ooxml(fh: BinaryIO) -> tuple[str, str]:
    """A .docx/.xlsx/.pptx and nothing else: the zip's declared sizes are checked before anything
    is unzipped; macros, embedded programs and foreign files are refused."""
    try:
        zf = zipfile.ZipFile(fh)
        parts = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise Refusal("压缩文件已损坏，无法打开") from None
    if len(parts) > MAX_PARTS:
        raise Refusal(f"压缩包中有 {len(parts)} 个条目，超过上限 {MAX_PARTS}")
    if any(p.flag_bits & 0x1 for p in parts):
        raise Refusal("压缩包已加密（带密码），无法检查内容")
    total = sum(p.file_size for p in parts)
    if total > MAX_UNZIPPED:
        raise Refusal(f"解压后共 {human_size(total)}，超过上限 {human_size(MAX_UNZIPPED)}，疑似压缩炸弹")
    for p in parts:
        if p.file_size > 1024 * 1024 and p.file_size > MAX_RATIO * max(p.compress_size, 1):
            raise Refusal(f"压缩比 {p.file_size // max(p.compress_size, 1)}:1 异常，疑似压缩炸弹")
        name = p.filename
        if name.startswith("/") or "\\" in name or ".." in name.split("/"):
            raise Refusal("压缩包中有不安全的路径")
    names = {p.filename for p in parts}
    if "[Content_Types].xml" not in names:
        raise Refusal("这是 ZIP 压缩包，不是 Word、Excel 或 PowerPoint 文档。" + ACCEPTED)
    info = zf.getinfo("[Content_Types].xml")
    if info.file_size > 256 * 1024:
        raise Refusal("Office 文档的类型清单过大，疑似伪造")
    try:
        types = zf.read(info).decode("utf-8", "replace")
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError):
        raise Refusal("压缩文件已损坏，无法打开") from None
    declared = set(re.findall(r'ContentType="([^"]+)"', types))
    macro = next((MACRO_TYPES[t] for t in declared if t in MACRO_TYPES), None)
    if macro or any(n.lower().endswith("vbaproject.bin") for n in names):
        raise Refusal(f"含有宏的 Office 文件（.{macro or 'vba'}）不予接受，请另存为不含宏的 .docx/.xlsx/.pptx")
    mains = [OOXML[t] for t in declared if t in OOXML]
    if len(mains) != 1:
        raise Refusal("压缩包不是 Word、Excel 或 PowerPoint 文档（或为模板等其他格式）。" + ACCEPTED)
    ext, folder, content_type = mains[0]
    for name in names:
        lower = name.lower()
        if name != "[Content_Types].xml" and not name.startswith(("_rels/", "docProps/", "customXml/", folder)):
            raise Refusal(f"文档中有不属于 {ext} 文档的内容：{name[:80]}")
        if "/activex/" in lower or (lower.endswith(".bin") and "printersettings" not in lower):
            raise Refusal(f"文档含有嵌入的程序对象（{name[:80]}），不予接受")
    return ext, content_type
