"""The random-inspection screens' sentences, in Chinese and English (merged into ``i18n.CATALOGUE``)."""

from __future__ import annotations

INSPECTION_TEXT: dict[str, tuple[str, str]] = {
    "inspection.assigned": ("分派给我的双随机检查", "Random inspections assigned to me"),
    "inspection.none": ("没有待完成的检查任务", "No inspections waiting"),
    "inspection.deadline": ("期限 {deadline}", "Due {deadline}"),
    "inspection.with": ("同检：{names}", "With: {names}"),
    "inspection.matters_line": ("事项：{names}", "Matters: {names}"),
    "inspection.start": ("开始检查", "Start inspection"),
    "inspection.continue": ("继续填写", "Continue"),
    "inspection.title": ("双随机检查", "Random inspection"),
    "inspection.unknown": ("找不到该检查任务，请同步后再试", "This inspection is not on this phone; sync and try again"),
    "inspection.started": ("开始时间 {at}", "Started {at}"),
    "inspection.matters": ("检查事项", "Matters checked"),
    "inspection.result": ("检查结果", "Result"),
    "inspection.findings": ("发现的问题", "Findings"),
    "inspection.recordings": ("执法记录仪文件编号", "Body-camera file numbers"),
    "inspection.recording_number": ("文件编号", "File number"),
    "inspection.add_recording": ("添加编号", "Add number"),
    "inspection.photos": ("照片 {count} 张", "{count} photos"),
    "inspection.co_inspector": ("第二名执法人员确认在场", "Second inspector confirms being present"),
    "inspection.pin_for": ("{name} 的个人密码", "{name}'s PIN"),
    "inspection.confirm": ("确认", "Confirm"),
    "inspection.confirmed": ("{name} 已确认在场（{at}）", "{name} confirmed being present ({at})"),
    "inspection.pin_wrong": ("密码不正确", "Wrong PIN"),
    "inspection.pin_locked": (
        "密码错误次数过多，本次检查不能再用密码确认，请联系办公室",
        "Too many wrong PINs: this inspection can no longer be confirmed by PIN; call the office",
    ),
    "inspection.no_pin": (
        "本机没有该执法人员的密码摘要：请其在本人手机上设置个人密码，双方同步后再确认",
        "This phone has no PIN for that inspector: they set one on their own phone, both sync, then confirm",
    ),
    "inspection.submit": ("提交检查记录", "Submit the inspection"),
    # an officer's own PIN
    "pin.title": ("个人密码", "Personal PIN"),
    "pin.intro": (
        "同事在一台手机上记录检查时，您在那台手机上输入此密码确认在场。密码只在本机计算摘要后发送，服务器不保存密码。",
        "When a colleague records an inspection on their phone, you type this PIN there to confirm you were present. "
        "Only a hash made on this phone is sent; the server never holds the PIN.",
    ),
    "pin.set": ("设置个人密码", "Set my PIN"),
    "pin.new": ("新密码（6–12 位数字）", "New PIN (6 to 12 digits)"),
    "pin.again": ("再次输入", "Type it again"),
    "pin.save": ("保存", "Save"),
    "pin.saved": ("个人密码已设置，同事的手机同步后即可使用", "PIN set; it works on your colleagues' phones once they sync"),
    "pin.mismatch": ("两次输入的密码不一致", "The two PINs differ"),
    "pin.bad_length": ("密码须为 6 至 12 位数字", "A PIN is 6 to 12 digits"),
    "pin.too_simple": ("密码过于简单（同一数字重复或连续数字），请另选", "Too easy to guess (repeated or consecutive digits)"),
    "pin.needs_network": ("设置密码需要联网，请联网后再试", "Setting a PIN needs a connection; try again online"),
    "kind.random_inspection": ("双随机检查记录", "Random inspection record"),
}
