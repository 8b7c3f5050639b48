"""Every string the draw command and the public page show, in Chinese (the default) and English.

Templates and commands never hold literal text: they call ``t(key, language, **values)``.
A missing key raises ``KeyError`` at once, so nothing ships untranslated.
"""

from __future__ import annotations

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

# key: (Chinese, English). Placeholders use str.format names.
CATALOGUE: dict[str, tuple[str, str]] = {
    # xuncha-server draw verify FILE
    "verify.unreadable": ("无法读取文件 {path}：{reason}", "Cannot read {path}: {reason}"),
    "verify.not_json": ("{path} 不是 JSON 文件：{reason}", "{path} is not a JSON file: {reason}"),
    "verify.confirmed": (
        "已确认：按公布的输入重新运行，抽取结果与文件完全一致。",
        "Confirmed: re-running the published inputs gives exactly the draw in the file.",
    ),
    "verify.refuted": ("不一致：{message}", "Refuted: {message}"),
    "verify.summary": (
        "抽查：{title}；抽取时间 {drawn_at}；承诺记入台账第 {ledger_index} 条（摘要 {digest}）",
        "Draw: {title}; drawn at {drawn_at}; commitment at ledger index {ledger_index} (digest {digest})",
    ),
    "verify.pool": (
        "分组 {stratum}：候选 {size} 户，抽取 {count} 户",
        "Stratum {stratum}: {size} candidates, {count} drawn",
    ),
    "verify.assignments": (
        "执法人员分配 {entities} 户，每户 {per_entity} 人；人员不足的 {short} 户",
        "Inspectors assigned to {entities} entities, {per_entity} each; {short} short of inspectors",
    ),
}


def t(key: str, language: str = DEFAULT_LANGUAGE, **values: object) -> str:
    """The catalogue text for ``key`` in ``language`` ("zh" or "en"), with ``values`` filled in."""
    zh, en = CATALOGUE[key]
    return (en if language == "en" else zh).format(**values)


def both(key: str, **values: object) -> str:
    """Chinese, then English, for output read by people of either language (a terminal)."""
    return f"{t(key, 'zh', **values)}\n{t(key, 'en', **values)}"
