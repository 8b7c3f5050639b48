"""Cut the app's bundled Chinese font: a subset of Noto Sans CJK SC.

Usage::

    python assets/fonts/subset_font.py NotoSansCJK-Regular.ttc assets/fonts/NotoSansSC-Xuncha.otf

The source is the Regular ``.ttc`` from Debian's ``fonts-noto-cjk`` package (face 2 is SC;
the font is OFL-1.1, see OFL.txt beside the output). The result must load in Flutter (the
app's theme font) and in Pillow (the evidence stamp burnt into photos).

Which characters, and why:

* GB2312 (7,445 characters, 6,763 of them hanzi) is not enough: it lacks characters that
  occur in real names and place names (堃, 喆, 赟, 玥, 昇, 磡 ...). So the set is GB2312,
  derived here from Python's own ``gb2312`` codec, plus
* the 8,105 characters of 通用规范汉字表 (2013), the official list of characters for names
  and place names. 6,638 of them are in GB2312; the other 1,467 are spelled out in
  ``TGH_NOT_IN_GB2312`` below (taken from the ``kTGH`` field of Unihan, Unicode 15.0), plus
* a few characters outside both lists that still occur in place names and given names
  (``NAMES_AND_PLACES``: 氹 as in 氹仔, ...), plus
* Latin (ASCII, Latin-1), and the punctuation and symbols a field record uses: CJK
  punctuation, full-width forms, ℃, №, ×, ·, —, “”, ①, Ⅻ, ㎡, arrows, check marks.

Hinting is dropped (phones render CJK unhinted anyway), as are the vertical-writing
tables and the other languages' glyph variants; the glyph outlines are kept as they are. ``codepoints()`` is the exact set asked
for; the font keeps those of them that Noto Sans CJK SC has (all of the hanzi).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

SC_FACE_INDEX = 2

# The 1,467 characters of 通用规范汉字表 (2013) that GB2312 lacks, in code point order.
TGH_NOT_IN_GB2312 = """
㑇㑊㕮㘎㙍㙘㙦㛃㛚㛹㟃㠇㠓㤘㥄㧐㧑㧟㫰㬊㬎㬚㭎㭕㮾㰀㳇㳘㳚㴔㵐㶲㸆㸌㺄㻬㽏㿠䁖䂮
䃅䃎䅟䌹䎃䎖䏝䏡䏲䐃䓖䓛䓨䓫䓬䗖䗛䗪䗴䜣䝙䢺䢼䣘䥽䦃䲟䲠䲢䴓䴔䴕䴖䴗䴘䴙䶮丏乂乸
亶亸亹伈伋伣伭伾佁佖佸佺佽侁侂侘侴侹俍俙俫俵俶倓倕倞倧倴倻偁偓偡偭偰偲傃傉傒傕僇
僎僔僰儦儳儴冏冔冮凓凘刬剅剋剕剟劄劼勍勔勚勠匜匼卬厖厾叆叇叕叚吽呇呣咇咉咍咡咥咺
哃哢哱唝唵啫啰啴喆喤嗐嗞嘚嘡噀噂噇嚄嚚嚭囷圌圐圙圢圫圲坉坋坒坥坬坰坽垈垍垎垏垕垙
垚垞垟垯垱垵垺垾垿埆埇埌埗埪埫埵埼堃堉堌堎堐堧堨堲堼堽堾塅塆塝塱墈墐墕墘墡墣墦壸
夐夬奓奡奭妘妧妭姈姞姤姮姱姶姽娀娵婌婍婘婞婠婤婫婳婻婼媂媄媆媓媖媞媭媱嫄嫕嫚嫪嫭
嫽嬛嬥嬬嬿孅孖宧宬寁尨尪屃屼屾岊岞岠岨峂峃峗峘峛峣峧峱峿崀崁崄崌崒崚崟崡崶崿嵁嵅
嵎嵖嵚嵲嶅嶍嶒嶓嶟嶦嶲巇巉帡帨幖幪庤庱庼廆廋廙弆弇弢弨弶弸彟彧徛忞忳忺恓恔悆悈悢
悰惇惎惔惙惛愃愐愔愭慆慥慬慭憕憙憭憺戣戭扂扅扆扊扞扺扽抃抔拃拤挓挦捯捽掞揕揳搒摏
摛摴摽擿攽敔敩斝斠斶旐旞旴旵旸旻旿昄昇昈昉昒昡昣昤昪昫昳昺昽晅晊晐晙晞晢晪晫晱暅
暕暲暵暶暿曈曌朏朓朳朸杄杕杙杧杻枅枍枲枹柈柊柖柷栐栒栟栴栻桯桲桹梌梠梣梴梼梽梾梿
棁棐棓棤棨棪棫棬棻棽椀椆椑椓椪椸楒楙楩楪楯榃榅榑榖榰槃槚槜槱橑橞橦檞櫆欂欸欻歅殣
毌毐氾氿汈汋汧汫汭沄沇沘沚沨沺泂泃泇泙泚泜洈洑洓洘洢洣洨洭洴洸洺洿浉浐浕浛浟浡浥
浬浭浰浲涄涍涐涘涢涴淏淜淟淯淴渟渰渼湉湑湜湝湣湲湴溁溇溍溚溞溠溦溵溹滃滆滉滍滘滧
滪滫漈漋漖漦漴漷漹漻漼潏潖潟潩潵潽潾澂澛澥澪澭澴澼澽濋濩瀌瀍瀔瀱瀼灈炆炌炘炟炣烔
烜烝烠烶烺烻焆焌焗焜焞煁煃煋煓煟煴熇熛熜熥熻燊燋燏燚爇爔爚爟牁牂牚牤牥牻犇犨狉狝
猄猇猯猰猺獴玃玒玓玕玘玙玚玞玠玡玤玥玦玭玱玶玹玼玿珅珇珋珌珒珕珖珛珝珢珣珦珪珫珰
珵珷珸珹珺珽琀琄琇琈琎琔琟琡琤琫琭琯琲瑀瑂瑃瑄瑅瑆瑑瑓瑔瑖瑝瑢瑧瑨瑬瑱瑳璆璈璒璘
璟璠璥璪璬璮璱璲瓀瓖瓘瓻甗甡甦甪畖畤畬畯疁疍疐疢疭痓瘆癗癿皕皛皞皦皭盉盦盷眊眬睄
睎瞋瞫瞭矞矰矻矼砄砆砠砫砮砵硁硊硍硔硙硚硿碃碈碏碨碶磏磜磡磹磻礌礵祃祇祊祋祎祏祐
祕祲祼祾禋禒禔禘禛禤秬秾稌稑稙穄穙穜穟窅窊窎窣窸竑竘竫笯筀筜筤筥筦筶筼箓箖篯簃簉
簕簝簠簰籥粿糒糵絜縠縢繄纮纴纻纼绖绤绹缊缐缞罍罶罽羑羓羕羖羱翀翂翃翈翙翚翛翯翷翾
耇耏耑耤耰肸胈胠胣脟脩脿腒腘腨腯膙臑臜舠舥舲艅艎芃芠芣芼苉苧苾茀茋茓茝茽荁荄荓荖
荙莙莝莿菂菉菍菼萚萣萩萳萹葎葖葰葴蒄蒐蒟蒨蒱蒻蓂蓇蓏蓢蔀蔃蔈蔊蕗蕰薁薢薳薸薿藟藠
藦藨蘘虒虓虤虷虸蚄蚆蚲蛃蜎蜐蝘蝲螠螣螱蟏蟫蠋衃衎衒衠袆袗袪袯裈裛褕褟褯襕襚襜襫觃
觟觭觱觿訄訚詟讱讻诇诐谞谼谿豨豮貆赑赒赗赟赪趯跂跐跱跶踒踦踶蹅蹐蹚蹜蹢蹽蹾轪辀辌
辒辿迺逴遆遹邘邠邨邲邽邿郃郈郚郤郪郿鄀鄃鄅鄌鄑鄗鄘鄚鄜鄠鄫酂酅酦酺醨醾釐鋆钖钘铏
铚铻锜锧锳锽镃镈镋镕镚镠镮镴镵闿阇阘陎陑陞隃隩隺雊雱霅霨靬靰靸靺靽靿鞁鞡鞧鞨鞬鞮
鞳韂韨颋颎颙飏飐飔飗饳饸饹饻馃馉馌馝馞馧驲骃骉骍骎骕骙骦髃髎髢髽鬒鬘鬶鬷魆魋鱽鱾
鲀鲃鲉鲊鲌鲏鲖鲗鲘鲙鲝鲪鲬鲯鲹鲾鲿鳀鳁鳂鳈鳉鳑鳒鳚鳛鳠鳡鳣鳤鸤鸧鸮鸰鸻鸼鹀鹍鹐鹒
鹔鹖鹙鹝鹟鹠鹡鹢鹮鹯鹲鹴麀麑麖麹黇黡鼒鼩鼫鼱齁齇齉龁龂龢鿍鿎鿏𠅤𠙶𠳐𡎚𡐓𣗋𣲗𣲘𣸣
𤧛𤩽𤫉𥔲𥕢𥖨𥻗𦈡𦒍𦙶𦝼𦭜𦰡𧿹𨐈𨙸𨚕𨟠𨭉𨱇𨱏𨱑𨱔𨺙𩽾𩾃𩾌𪟝𪣻𪤗𪨰𪨶𪩘𪾢𫄧𫄨𫄷𫄸𫇭𫌀
𫍣𫍯𫍲𫍽𫐄𫐐𫐓𫑡𫓧𫓯𫓶𫓹𫔍𫔎𫔶𫖮𫖯𫖳𫗧𫗴𫘜𫘝𫘦𫘧𫘨𫘪𫘬𫚕𫚖𫚭𫛭𫞩𫟅𫟦𫟹𫟼𫠆𫠊𫠜𫢸
𫫇𫭟𫭢𫭼𫮃𫰛𫵷𫶇𫷷𫸩𬀩𬀪𬂩𬃊𬇕𬇙𬇹𬉼𬊈𬊤𬌗𬍛𬍡𬍤𬒈𬒔𬒗𬕂𬘓𬘘𬘡𬘩𬘫𬘬𬘭𬘯𬙂𬙊𬙋𬜬
𬜯𬞟𬟁𬟽𬣙𬣞𬣡𬣳𬤇𬤊𬤝𬨂𬨎𬩽𬪩𬬩𬬭𬬮𬬱𬬸𬬹𬬻𬬿𬭁𬭊𬭎𬭚𬭛𬭤𬭩𬭬𬭯𬭳𬭶𬭸𬭼𬮱𬮿𬯀𬯎
𬱖𬱟𬳵𬳶𬳽𬳿𬴂𬴃𬴊𬶋𬶍𬶏𬶐𬶟𬶠𬶨𬶭𬶮𬷕𬸘𬸚𬸣𬸦𬸪𬹼𬺈𬺓
"""

# Beyond both lists, yet seen in place names (氹仔, 墎) and given names.
NAMES_AND_PLACES = "氹墎濛瀞珮琍鹓暻鍀麤"

# (first, last) inclusive ranges of non-hanzi code points; those the source lacks are skipped.
SYMBOL_RANGES: tuple[tuple[int, int], ...] = (
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x00FF),  # Latin-1: ° ± × ÷ ·
    (0x2000, 0x206F),  # general punctuation: — ‘’ “” … ‰ ※
    (0x2100, 0x214F),  # letterlike: ℃ № ℉
    (0x2150, 0x218F),  # number forms: Ⅰ-Ⅻ
    (0x2190, 0x21FF),  # arrows
    (0x2460, 0x24FF),  # enclosed numbers: ① ⑴ ⒈
    (0x25A0, 0x25FF),  # geometric shapes: ■ □ ▲ ● ○ ◆
    (0x2600, 0x2606),  # ★ ☆
    (0x2713, 0x2718),  # ✓ ✔ ✕ ✖ ✗ ✘
    (0x3000, 0x303F),  # CJK symbols and punctuation: 、。〈〉《》「」【】〔〕
    (0x3220, 0x3243),  # parenthesised ideographs: ㈠ ㈱
    (0x3380, 0x33DF),  # CJK compatibility units: ㎏ ㎡ ㎞
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFF00, 0xFFEF),  # full-width and half-width forms: ，：（）￥
    (0xFFFD, 0xFFFD),  # replacement character
)


def gb2312_codepoints() -> set[int]:
    """Every character GB2312 encodes (rows 0xA1-0xF7, cells 0xA1-0xFE)."""
    found: set[int] = set()
    for row in range(0xA1, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                found.add(ord(bytes((row, cell)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return found


def codepoints() -> set[int]:
    """The exact set of code points the bundled font is cut for."""
    wanted = gb2312_codepoints()
    wanted.update(ord(c) for c in TGH_NOT_IN_GB2312 if not c.isspace())
    wanted.update(ord(c) for c in NAMES_AND_PLACES)
    for first, last in SYMBOL_RANGES:
        wanted.update(range(first, last + 1))
    return wanted


def cut(source: Path, target: Path) -> int:
    """Write the subset font to ``target`` (atomically) and return its size in bytes."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(source, fontNumber=SC_FACE_INDEX)
    options = subset.Options()
    options.hinting = False
    options.desubroutinize = False
    options.drop_tables += ["VORG", "vhea", "vmtx", "BASE"]
    # The default feature list pulls in the Japanese, Korean and Traditional glyph variants
    # (locl) and vertical forms (vert): 7,000 glyphs and 1.5 MB that simplified Chinese in
    # horizontal lines never shows.
    options.layout_features = ["ccmp", "liga", "kern"]
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
    options.name_languages = [0x409]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(codepoints()))
    subsetter.subset(font)
    _rename(font)
    tmp = target.with_name(target.name + ".tmp")
    font.save(tmp)
    tmp.replace(target)
    return target.stat().st_size


def _rename(font) -> None:  # type: ignore[no-untyped-def]
    # OFL: a modified version should not pass for the original.
    family = "Noto Sans SC Xuncha"
    postscript = "NotoSansSC-Xuncha-Regular"
    name = font["name"]
    for record in list(name.names):
        if record.nameID in (1, 4):
            name.setName(
                family if record.nameID == 1 else f"{family} Regular",
                record.nameID,
                record.platformID,
                record.platEncID,
                record.langID,
            )
        elif record.nameID == 3:
            name.setName(
                f"{postscript};subset", 3, record.platformID, record.platEncID, record.langID
            )
        elif record.nameID == 6:
            name.setName(postscript, 6, record.platformID, record.platEncID, record.langID)
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = [postscript]
        top = cff.topDictIndex[0]
        top.FullName = f"{family} Regular"
        top.FamilyName = family


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="NotoSansCJK-Regular.ttc (fonts-noto-cjk)")
    parser.add_argument("target", type=Path, help="where to write the subset .otf")
    args = parser.parse_args(argv)
    size = cut(args.source, args.target)
    print(f"{args.target}: {len(codepoints())} code points asked for, {size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
