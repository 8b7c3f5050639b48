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
    # the public page /public/
    "public.title": ("{town}随机抽查结果公示", "{town}: random inspection results"),
    "public.lang": ("English", "中文"),
    "public.intro": (
        "本页公示“双随机、一公开”抽查结果和每次抽取的全部输入。抽取结果可由任何人离线重新运行核验。",
        "Results of random inspections and every input of each draw. Anyone can re-run a draw offline to check it.",
    ),
    "public.results": ("抽查结果", "Inspection results"),
    "public.no_results": ("暂无已公示的抽查结果。", "No results published yet."),
    "public.entity": ("检查对象", "Entity"),
    "public.credit_code": ("统一社会信用代码", "Credit code"),
    "public.authority": ("检查机关", "Inspecting authority"),
    "public.kind": ("检查类型", "Kind of check"),
    "public.kind_random": ("双随机抽查", "Random inspection"),
    "public.kind_other": ("检查", "Inspection"),
    "public.date": ("检查日期", "Date"),
    "public.result": ("检查结果", "Result"),
    "public.draws": ("抽取记录", "Draws"),
    "public.no_draws": ("暂无已公布的抽取。", "No draws published yet."),
    "public.drawn_at": ("抽取时间", "Drawn at"),
    "public.open_draw": ("查看输入与核验方法", "Inputs and how to check"),
    "public.back": ("返回公示首页", "Back to the results"),
    "public.commitment": ("抽取前的承诺", "The commitment made before the draw"),
    "public.committed_at": ("承诺时间", "Committed at"),
    "public.ledger_index": ("台账序号", "Ledger index"),
    "public.digest": ("承诺摘要（SHA-256）", "Commitment digest (SHA-256)"),
    "public.source": ("随机数来源", "Source of the random values"),
    "public.source_date": ("来源公布日期", "Published by the source on"),
    "public.values": ("公布的随机数", "The published values"),
    "public.key": ("RFC 3797 密钥", "RFC 3797 key"),
    "public.pools": ("各分组的抽取", "Selection in each stratum"),
    "public.stratum": ("分组", "Stratum"),
    "public.candidates": ("候选 {size} 户，抽取 {count} 户", "{size} candidates, {count} drawn"),
    "public.selected": ("抽中的检查对象（按抽取顺序）", "Entities drawn (in selection order)"),
    "public.assignments": ("执法检查人员分配", "Inspectors assigned"),
    "public.inspectors": ("执法人员（执法证号）", "Inspectors (certificate)"),
    "public.short": (
        "可用人员不足 {n} 名，由执法机关另行指派",
        "{n} short: the authority assigns from outside",
    ),
    "public.verify": ("如何核验", "How to check this draw"),
    "public.download": ("下载抽取文件（JSON）", "Download the draw file (JSON)"),
    "public.verify_step1": ("下载上面的抽取文件。", "Download the draw file above."),
    "public.verify_step2": (
        "安装巡查服务器软件后运行下面的命令，它不需要联网，会确认结果或指出第一处不一致：",
        "With the Xuncha server software installed, run the command below; it needs no network and confirms "
        "the draw or names the first difference:",
    ),
    "public.verify_step3": (
        "也可以按 RFC 3797 自行计算：对每个分组，以分组密钥前后各加两字节序号做 MD5，"
        "除以剩余候选数取余数，从候选名单（按代码升序编号）中依次选出。",
        "Or compute it yourself by RFC 3797: for each stratum, MD5 of its key with the two-byte index before "
        "and after, the remainder by the number of candidates left picks the next one from the list "
        "(numbered in ascending order of code).",
    ),
    "public.verify_step4": (
        "在公开台账第 {index} 条可以看到该承诺在随机数公布之前已记入。",
        "Entry {index} of the public ledger shows the commitment was recorded before the values existed.",
    ),
    "public.not_found": ("没有这次抽取。", "There is no such draw."),
}


def t(key: str, language: str = DEFAULT_LANGUAGE, **values: object) -> str:
    """The catalogue text for ``key`` in ``language`` ("zh" or "en"), with ``values`` filled in."""
    zh, en = CATALOGUE[key]
    return (en if language == "en" else zh).format(**values)


def both(key: str, **values: object) -> str:
    """Chinese, then English, for output read by people of either language (a terminal)."""
    return f"{t(key, 'zh', **values)}\n{t(key, 'en', **values)}"
