"""The result categories of a random inspection (双随机抽查结果), as published.

These are the usual national categories; a deployment may configure its own
list of codes (see ``validate_content(result_categories=...)``). A code is
stable; its wording is for people.
"""

from __future__ import annotations

# code: (Chinese, English)
RESULT_CATEGORIES: dict[str, tuple[str, str]] = {
    "no_problem": ("未发现问题", "No problem found"),
    "problem_corrected": ("发现问题已责令改正", "Problem found, correction ordered"),
    "problem_pending": ("发现问题待后续处理", "Problem found, follow-up pending"),
    "info_not_published": ("未按规定公示应当公示的信息", "Required information not published"),
    "info_falsified": (
        "公示信息隐瞒真实情况、弄虚作假",
        "Published information concealed or falsified",
    ),
    "unreachable_at_address": (
        "通过登记的住所（经营场所）无法联系",
        "Cannot be reached at the registered address",
    ),
    "refused_inspection": (
        "不配合检查情节严重",
        "Seriously refused to cooperate with the inspection",
    ),
    "no_related_activity": (
        "未发现开展本次抽查涉及的经营活动",
        "No business activity covered by this inspection",
    ),
}

# Results that report nothing wrong, so they need no written findings.
NOTHING_FOUND: frozenset[str] = frozenset({"no_problem", "no_related_activity"})
