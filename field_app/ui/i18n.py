"""Every string the field app shows, in Chinese (the default) and English.

Views never hold literal text: they call ``tr(key, **values)``. A missing key
raises ``KeyError`` at once (tests walk the catalogue), so a screen cannot ship
with an untranslated label. The sentences the photo and sync code raise errors with
(``field_app.messages``) are part of this catalogue under ``error.<key>``, the photo
stamp's labels under ``stamp.<key>``; a view shows an error with ``tr.error(err)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from field_app.messages import ERRORS, SERVER_ERRORS, STAMP
from field_app.ui.inspection_i18n import INSPECTION_TEXT

LANGUAGES: tuple[str, ...] = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

# key: (Chinese, English). Placeholders use str.format names.
CATALOGUE: dict[str, tuple[str, str]] = {
    "app.title": ("巡查", "Xuncha"),
    "lang.switch": ("English", "中文"),
    "net.online": ("在线", "Online"),
    "net.offline": ("离线", "Offline"),
    "net.syncing": ("同步中", "Syncing"),
    "net.revoked": ("已被办公室停用", "Signed out by the office"),
    "net.checking": ("连接中", "Connecting"),
    "common.back": ("返回", "Back"),
    "common.cancel": ("取消", "Cancel"),
    "common.ok": ("确定", "OK"),
    "common.none": ("无", "None"),
    "common.all": ("全部", "All"),
    "common.saved": ("已保存", "Saved"),
    "common.error": ("出错：{message}", "Error: {message}"),
    "common.delete": ("删除", "Delete"),
    "common.undo": ("撤销", "Undo"),
    # sign-in
    "signin.title": ("登录", "Sign in"),
    "signin.intro": (
        "首次使用：填写服务器地址，用账号密码或办公室发的一次性登记码登录。",
        "First start: enter the server address, then sign in with your password or the one-time code from the office.",
    ),
    "signin.server": ("服务器地址", "Server address"),
    "signin.username": ("用户名", "Username"),
    "signin.password": ("密码", "Password"),
    "signin.code": ("登记码", "Enrollment code"),
    "signin.use_code": ("用登记码登录", "Use an enrollment code"),
    "signin.use_password": ("用密码登录", "Use a password"),
    "signin.submit": ("登录", "Sign in"),
    "signin.busy": ("正在登录…", "Signing in…"),
    "signin.need_server": ("请填写服务器地址，例如 http://192.168.1.10:8000", "Enter the server address, e.g. http://192.168.1.10:8000"),
    "signin.bad_server": ("服务器地址须以 http:// 或 https:// 开头", "The server address must start with http:// or https://"),
    "signin.need_username": ("请填写用户名", "Enter your username"),
    "signin.need_password": ("请填写密码", "Enter your password"),
    "signin.need_code": ("请填写登记码", "Enter the enrollment code"),
    "signin.failed": ("登录失败：{message}", "Sign-in failed: {message}"),
    "signin.unavailable": ("同步模块尚不可用，无法登录", "The sync module is not available, cannot sign in"),
    "signin.as": ("已登录：{name}", "Signed in as {name}"),
    "signin.out": ("退出登录", "Sign out"),
    "signin.out_title": ("退出登录？", "Sign out?"),
    "signin.out_body": (
        "本机的草稿和未发送的记录（{count} 条）都会保留：{name} 再次登录时，它们以 {name} 的名义发送。"
        "其他人在本机登录后看不到它们。",
        "Drafts and records not yet sent ({count}) stay on this phone: when {name} signs in again they are "
        "sent under {name}'s name. Anyone else signing in on this phone does not see them.",
    ),
    "signin.signed_out": ("已退出登录", "Signed out"),
    # home
    "home.title": ("首页", "Home"),
    "home.month_checks": ("{month} 各村检查", "Checks for {month}"),
    "home.no_reference": (
        "还没有村庄和评分表数据。请在有信号的地方点“立即同步”。",
        "No villages or scoring sheets yet. Where there is signal, tap “Sync now”.",
    ),
    "home.status.not_started": ("未开始", "Not started"),
    "home.todo": ("被退回的检查，请修改后重新提交", "Sent back to you: fix and submit again"),
    "home.fix": ("去修改", "Fix it"),
    "home.open": ("查看", "Open"),
    "home.continue": ("继续填写", "Continue"),
    "home.syncing": ("正在同步…", "Syncing…"),
    "home.sent": ("本次同步：发送 {records} 条记录、{photos} 张照片", "Last sync sent {records} records and {photos} photos"),
    "home.orders": ("未完成整改通知", "Open rectification orders"),
    "home.no_orders": ("没有未完成的整改通知", "No open rectification orders"),
    "home.order_due": ("期限 {deadline}", "Due {deadline}"),
    "home.order_overdue": ("已逾期 {days} 天（期限 {deadline}）", "Overdue {days} days (due {deadline})"),
    "home.waiting": ("待发送 {count} 条", "{count} waiting to be sent"),
    "home.last_sync": ("上次同步 {at}", "Last sync {at}"),
    "home.never_synced": ("尚未同步", "Never synced"),
    "home.sync_now": ("立即同步", "Sync now"),
    "home.new_check": ("新建检查", "New check"),
    "home.history": ("历史记录", "History"),
    "home.recovered": ("本机数据已恢复：{detail}", "Local data was recovered: {detail}"),
    "home.progress": ("记录 {records_done}/{records_total}，照片 {kb_done}/{kb_total} KB", "Records {records_done}/{records_total}, photos {kb_done}/{kb_total} KB"),
    "home.sync_error": ("同步失败：{message}", "Sync failed: {message}"),
    # check form
    "check.title": ("环境整治检查", "Remediation check"),
    "check.village": ("村/社区", "Village"),
    "check.month": ("月份", "Month"),
    "check.reason": ("办公室退回原因：{reason}", "Sent back by the office: {reason}"),
    "check.month_taken": ("{month} 这个村已有检查，已打开那一份", "This village already has a check for {month}: opened it"),
    "check.month_move_taken": ("这个村 {month} 已有检查，这一份不能改到这个月；请打开那一份修改",
                               "This village already has a check for {month}: this one cannot be moved there; "
                               "edit that one instead"),
    "check.pick_village": ("请选择村/社区", "Pick a village"),
    "check.no_sheet": ("没有评分表，请先同步", "No scoring sheet: sync first"),
    "check.total": ("总分 {total}", "Total {total}"),
    "check.items": ("评分项目", "Scoring items"),
    "check.item_head": ("{name}（满分 {max}）", "{name} (max {max})"),
    "check.rule": ("{name}：每{unit}扣 {per} 分", "{name}: −{per} per {unit}"),
    "check.rule_zeroes": ("{name}：本项不得分", "{name}: zeroes the item"),
    "check.add_deduction": ("扣分", "Deduct"),
    "check.deductions": ("扣分 {count} 条", "{count} deductions"),
    "check.count": ("数量", "Count"),
    "check.points": ("扣 {points} 分", "−{points} points"),
    "check.note": ("说明", "Note"),
    "check.remove": ("删除这条扣分", "Delete this deduction"),
    "check.remove_ask": ("删除这条扣分（{rule}）和它的 {photos} 张照片？", "Delete this deduction ({rule}) and its {photos} photos?"),
    "check.removed": ("已删除扣分", "Deduction deleted"),
    "check.remove_order": ("撤销整改通知", "Withdraw the order"),
    "check.remove_photo": ("删除照片", "Delete photo"),
    "check.remove_photo_ask": ("删除这张照片？", "Delete this photo?"),
    "check.less": ("减少{label}", "Less: {label}"),
    "check.more": ("增加{label}", "More: {label}"),
    "check.bad_number": ("请填写整数", "Enter a whole number"),
    "check.use_photo_location": ("用照片的位置", "Use the photo's position"),
    "check.photos": ("照片 {count} 张", "{count} photos"),
    "check.camera": ("拍照", "Camera"),
    "check.gallery": ("相册", "Gallery"),
    "check.photo_failed": ("照片未保存：{message}", "Photo not saved: {message}"),
    "check.photo_busy": ("正在处理照片…", "Processing photo…"),
    "check.no_camera": ("此设备无法使用相机，请从相册选择", "No camera here: pick from the gallery"),
    "check.location": ("位置", "Location"),
    "check.locate": ("定位", "Locate"),
    "check.location_none": ("未定位", "No location"),
    "check.location_value": ("{lat}, {lon}（{source}）", "{lat}, {lon} ({source})"),
    "source.gps": ("定位", "GPS"),
    "source.network": ("网络定位", "network"),
    "source.manual": ("手动填写", "set by hand"),
    "source.photo": ("照片自带", "from the photo"),
    "check.location_failed": ("无法定位，请手动填写", "Could not locate: enter it by hand"),
    "check.lat": ("纬度", "Latitude"),
    "check.lon": ("经度", "Longitude"),
    "check.set_manual": ("手动设置", "Set by hand"),
    "check.bad_coordinates": ("经纬度格式不对", "Latitude and longitude are not valid numbers"),
    "check.cleaners": ("保洁员考核", "Cleaner assessment"),
    "check.absent_days": ("缺勤天数", "Days absent"),
    "check.late_minutes": ("迟到分钟", "Minutes late"),
    "check.left_post": ("脱岗次数", "Left post"),
    "check.dirty_spots": ("不洁处数", "Dirty spots"),
    "check.cleaner_score": ("{name}：{score} 分", "{name}: {score} points"),
    "check.rate": ("考核", "Rate"),
    "check.rate_done": ("收起", "Done"),
    "check.orders": ("整改通知", "Rectification orders"),
    "check.make_order": ("下整改通知", "Order a fix"),
    "check.order_deadline": ("期限（年-月-日）", "Deadline (YYYY-MM-DD)"),
    "check.deadline_estimate": ("预计：该年节假日安排尚未收到，按周一至周五数 {days} 个工作日；收到安排后自动更新",
                                "Estimate: that year's holiday schedule has not arrived, so {days} working days are counted Monday to Friday; it updates when the schedule arrives"),
    "check.deadline_changed": ("节假日安排已收到，期限由 {was} 改为 {now}", "The holiday schedule arrived: deadline moved from {was} to {now}"),
    "check.order_responsible": ("责任人", "Responsible"),
    "check.order_line": ("{title}，期限 {deadline}", "{title}, due {deadline}"),
    "check.problems": ("还缺：", "Still missing:"),
    "check.ready": ("可以提交", "Ready to submit"),
    "check.save_draft": ("保存草稿", "Save draft"),
    "check.submit": ("提交", "Submit"),
    "check.draft_saved": ("草稿已保存 {at}", "Draft saved {at}"),
    "check.submitted": ("已保存，待发送", "Saved, waiting to be sent"),
    "check.cannot_submit": ("不能提交：还有 {count} 处需要补充", "Cannot submit: {count} things are missing"),
    # re-check
    "recheck.title": ("复查", "Re-check"),
    "recheck.before": ("整改前", "Before"),
    "recheck.after": ("整改后", "After"),
    "recheck.resolved": ("已整改完成", "Fixed"),
    "recheck.note": ("复查说明", "Re-check note"),
    "recheck.close": ("提交复查", "Submit re-check"),
    "recheck.unknown_order": ("找不到这条整改通知", "This rectification order was not found"),
    # history
    "history.title": ("历史记录", "History"),
    "history.search": ("搜索", "Search"),
    "history.village": ("村/社区", "Village"),
    "history.month": ("月份", "Month"),
    "history.empty": ("没有记录", "No records"),
    "history.more": ("显示更多", "Show more"),
    "history.line": ("{village} · {month} · {kind}", "{village} · {month} · {kind}"),
    "history.reason": ("退回原因：{reason}", "Sent back: {reason}"),
    "history.keep_mine": ("保留我的，作为新版本", "Keep mine as a new revision"),
    "history.take_server": ("采用服务器的", "Take the server's"),
    "history.edit": ("修改", "Edit"),
    "history.conflict": ("此记录在服务器上已被修改", "This record was changed on the server"),
    "history.details": ("详情", "Details"),
    "history.ledger": ("台账 #{index}", "Ledger #{index}"),
    "history.kept_mine": ("已保留我的版本，将作为第 {revision} 版发送", "Kept yours: it goes out as revision {revision}"),
    "history.took_server": ("已采用服务器的版本", "Took the server's version"),
    "history.mine": ("我的版本", "My version"),
    "history.theirs": ("服务器上的版本", "The server's version"),
    "history.not_found": ("本机没有这条记录", "This record is not on this phone"),
    # one record
    "record.title": ("记录详情", "Record"),
    "record.revision": ("第 {revision} 版", "Revision {revision}"),
    "record.deductions": ("扣分", "Deductions"),
    "record.no_deductions": ("没有扣分", "No deductions"),
    "record.deduction": ("{rule} × {count}：扣 {points} 分", "{rule} × {count}: −{points} points"),
    "record.note": ("说明：{note}", "Note: {note}"),
    "record.location": ("位置：{value}", "Location: {value}"),
    "record.orders": ("整改通知", "Rectification orders"),
    "record.order": ("{title}（期限 {deadline}，责任人 {responsible}）", "{title} (due {deadline}, {responsible})"),
    "record.cleaners": ("保洁员考核", "Cleaner scores"),
    "record.reviews": ("审核记录", "Reviews"),
    "record.review": ("第 {revision} 版：{action}", "Revision {revision}: {action}"),
    "record.review_reason": ("第 {revision} 版：{action}（{reason}）", "Revision {revision}: {action} ({reason})"),
    "record.no_reviews": ("还没有审核", "Not reviewed yet"),
    "record.after_photos": ("整改后照片", "After photos"),
    "photo.label": ("照片 {n}", "Photo {n}"),
    "photo.missing": ("照片不在本机", "Photo not on this phone"),
    "photo.zoom_in": ("放大", "Zoom in"),
    "photo.zoom_out": ("缩小", "Zoom out"),
    "photo.close": ("关闭", "Close"),
    "photo.taken": ("{label}：{at}", "{label}: {at}"),
    "evidence.far_from_village": ("拍摄地点距村约 {km} 公里", "Taken about {km} km from the village"),
    "evidence.taken_before_check": ("拍摄时间早于检查 {days} 天", "Taken {days} days before the check"),
    "receipt.title": ("服务器回执", "Server receipt"),
    "receipt.none": ("还没有回执：同步后，服务器的回执会显示在这里。", "No receipt yet: after a sync the server's receipt shows here."),
    "receipt.of_revision": ("第 {revision} 版的回执", "Receipt of revision {revision}"),
    "receipt.index": ("台账序号 #{index}", "Ledger entry #{index}"),
    "receipt.leaf": ("存证哈希（台账叶节点）", "Leaf hash"),
    "receipt.received": ("服务器接收时间 {at}", "Received by the server {at}"),
    "receipt.verify": ("核验存证", "Verify receipt"),
    "receipt.checking": ("正在向服务器取证明并核验…", "Fetching the proof from the server and checking it…"),
    "receipt.verified": ("已核验：服务器已接收并记入台账 #{index}（检查点 大小 {size}）",
                         "Verified: the server received this record and entered it in the ledger as #{index} (checkpoint size {size})"),
    "receipt.offline": ("现在连不上服务器：核验需要网络。到有信号的地方再点“核验存证”。",
                        "No connection to the server: verifying needs a connection. Tap “Verify receipt” again where there is signal."),
    "receipt.not_yet": ("服务器刚收到此记录，还没进入签名的检查点：请过一会儿再核验。",
                        "The server has only just received this record and it is not in a signed checkpoint yet: verify again in a little while."),
    "receipt.not_synced": ("此记录还没有同步，没有回执可核验：请先同步。", "This record has not been synced, so there is no receipt to verify: sync first."),
    "receipt.signed_out": ("本机已被办公室停用或未登录，无法核验：请重新登录。", "This phone is signed out, so it cannot verify: sign in again."),
    "receipt.failed": ("核验失败！服务器无法证明它收到了这条记录（{code}）。请保留本机数据，立即告知办公室。",
                       "VERIFICATION FAILED! The server cannot prove it received this record ({code}). Keep this phone's data and tell the office now."),
    "receipt.checkpoint_time": ("检查点时间 {at}", "Checkpoint time {at}"),
    # key facts of a version
    "fact.line": ("{label}：{value}", "{label}: {value}"),
    "fact.revision": ("版本", "Revision"),
    "fact.total": ("总分", "Total"),
    "fact.deductions": ("扣分条数", "Deductions"),
    "fact.orders": ("整改通知", "Orders"),
    "fact.resolved": ("已整改", "Fixed"),
    "fact.photos": ("照片", "Photos"),
    "fact.result": ("结果", "Result"),
    "fact.findings": ("发现的问题", "Findings"),
    "fact.cleaners": ("考核保洁员", "Cleaners rated"),
    "fact.note": ("说明", "Note"),
    "fact.time": ("记录时间", "Recorded at"),
    "fact.author": ("记录人", "Recorded by"),
    "common.yes": ("是", "Yes"),
    "common.no": ("否", "No"),
    # record states
    "state.draft": ("草稿", "Draft"),
    "state.waiting": ("待发送", "Waiting"),
    "state.sending": ("发送中", "Sending"),
    "state.synced": ("已发送", "Sent"),
    "state.sent_back": ("被退回", "Sent back"),
    "state.conflict": ("冲突", "Conflict"),
    "state.error": ("被拒收", "Refused"),
    "state.legal_review": ("法制审核中", "Awaiting legal review"),
    "state.approved": ("已通过", "Approved"),
    "state.rejected": ("已驳回", "Rejected"),
    # record kinds
    "kind.remediation_check": ("整治检查", "Remediation check"),
    "kind.recheck": ("复查", "Re-check"),
    "kind.inspection_result": ("双随机检查", "Random inspection"),
    "kind.routine_assessment": ("保洁员考核", "Cleaner assessment"),
    **{f"unit.{zh}": (zh, en) for zh, en in (("处", "spot"), ("个", "item"), ("名", "person"), ("座", "site"),
                                               ("户", "household"), ("村", "village"), ("次", "time"), ("段", "stretch"),
                                               ("天", "day"), ("分钟", "minute"))},
    **{f"error.{key}": text for key, text in ERRORS.items()},
    **{f"server.{key}": text for key, text in SERVER_ERRORS.items()},
    **{f"stamp.{key}": text for key, text in STAMP.items()},
    **INSPECTION_TEXT,
}


@dataclass
class Translator:
    """Looks keys up in the catalogue in the current language; ``lang`` may change at any time."""

    lang: str = DEFAULT_LANGUAGE

    def __call__(self, key: str, **values: object) -> str:
        zh, en = CATALOGUE[key]
        text = en if self.lang == "en" else zh
        return text.format(**values) if values else text

    def pick(self, zh: str, en: str) -> str:
        """Choose between a Chinese and an English text from data (sheet names, server messages)."""
        if self.lang == "en":
            return en or zh
        return zh or en

    def error(self, error: object) -> str:
        """An error's message in the current language, from its code: an exception of the
        ``XunchaError`` family or an error body's ``{code, message, message_zh, detail}``.

        A server code the phone knows is said in the phone's own words; an answer with no
        Xuncha error body (``http.<status>``) says the address is wrong, never the HTTP
        reason phrase; anything else is the error's own message in this language."""
        if isinstance(error, Mapping):
            code, zh, en, detail = (error.get("code"), error.get("message_zh"), error.get("message"),
                                    error.get("detail"))
        else:
            code, zh, en, detail = (getattr(error, "code", None), getattr(error, "message_zh", ""),
                                    getattr(error, "message", ""), getattr(error, "detail", None))
        code = str(code or "")
        known = self._server_sentence(code, detail if isinstance(detail, Mapping) else {})
        if known:
            return known
        if isinstance(error, (str, int)) or not (zh or en):
            return self("server.unknown")
        return self.pick(str(zh or ""), str(en or ""))

    def _server_sentence(self, code: str, detail: Mapping[str, object]) -> str | None:
        if code.startswith("http."):
            status = code.removeprefix("http.")
            return self("server.http.server_down" if status.startswith("5") else "server.http.not_xuncha")
        if f"server.{code}" not in CATALOGUE:
            return None
        if code == "auth.throttled":
            seconds = detail.get("retry_after")
            minutes = math.ceil(float(seconds) / 60) if isinstance(seconds, (int, float)) else 15
            return self("server.auth.throttled", minutes=max(minutes, 1))
        return self(f"server.{code}")

    def unit(self, unit: str) -> str:
        """A scoring sheet's unit (Chinese in the sheet) in the current language."""
        key = f"unit.{unit}"
        return self(key) if key in CATALOGUE else unit

    def toggled(self) -> str:
        return "en" if self.lang == "zh" else "zh"
