"""The auto-parts glossary the engine ships: synonym sets loaded as default data (a data
migration) and by the demo (`populatedb`), then owned by platform staff, who edit or
delete them like any set (`searchSynonymSet`, the admin). Applied at query time on
both backends (search.text.parse_query), so a change needs no reindex.

Terms are folded (NFKC, case-folded) when loaded; a term belongs to one set only.
Chinese, English and pinyin names of parts, services, car models, makes and brands.
"""

GLOSSARY = [
    # parts
    ["刹车片", "制动片", "刹车皮", "brake pad", "brake pads"],
    ["刹车盘", "制动盘", "brake disc", "brake discs", "brake rotor"],
    ["刹车油", "制动液", "brake fluid"],
    ["机油滤清器", "机滤", "机油格", "机油滤芯", "oil filter", "oil filters"],
    ["空气滤清器", "空滤", "空气格", "空气滤芯", "air filter", "air filters"],
    ["空调滤清器", "空调滤芯", "空调格", "cabin filter", "cabin filters"],
    ["火花塞", "spark plug", "spark plugs", "huohuasai"],
    ["轮胎", "车胎", "tyre", "tyres", "tire", "tires", "luntai"],
    ["雨刮", "雨刷", "雨刮片", "雨刷片", "雨刮器", "雨刷器", "wiper", "wipers", "wiper blade", "wiper blades"],
    ["蓄电池", "电瓶", "battery", "car battery", "batteries", "dianping"],
    ["机油", "润滑油", "engine oil", "motor oil", "jiyou"],
    ["灯泡", "车灯", "大灯", "bulb", "bulbs", "headlight"],
    # services
    ["汽修", "维修", "修理厂", "修车", "汽车维修", "repair", "auto repair", "car repair", "qixiu"],
    ["保养", "养护", "car service", "maintenance", "baoyang"],
    ["四轮定位", "wheel alignment", "alignment"],
    # car models (zh / en / pinyin)
    ["卡罗拉", "corolla", "kaluola"],
    ["雷凌", "levin", "leiling"],
    ["凯美瑞", "camry", "kaimeirui"],
    ["荣放", "rav4", "rongfang"],
    ["朗逸", "lavida", "langyi"],
    ["速腾", "sagitar", "suteng"],
    ["宝来", "bora", "baolai"],
    ["帕萨特", "passat", "pasate"],
    ["思域", "civic", "siyu"],
    ["雅阁", "accord", "yage"],
    ["轩逸", "sylphy", "xuanyi"],
    ["帝豪", "emgrand", "dihao"],
    ["星越l", "monjaro", "xingyue"],
    ["英朗", "excelle gt", "excelle", "yinglang"],
    # makes
    ["丰田", "toyota", "fengtian"],
    ["大众", "volkswagen", "vw", "dazhong"],
    ["本田", "honda", "bentian"],
    ["日产", "nissan", "richan"],
    ["比亚迪", "byd", "biyadi"],
    ["吉利", "geely", "jili"],
    ["别克", "buick", "bieke"],
    ["长安", "changan"],
    ["哈弗", "haval", "hafu"],
    # brands
    ["博世", "bosch", "boshi"],
    ["米其林", "michelin", "miqilin"],
    ["美孚", "mobil", "meifu"],
    ["嘉实多", "castrol", "jiashiduo"],
    ["壳牌", "shell", "qiaopai"],
    ["普利司通", "bridgestone", "pulisitong"],
    ["马牌", "continental", "mapai"],
    ["布雷博", "brembo", "bureibo"],
    ["瓦尔塔", "varta", "waerta"],
    ["骆驼", "camel", "luotuo"],
    ["电装", "denso", "dianzhuang"],
    ["曼牌", "mann", "mann-filter", "manpai"],
    ["曙光", "akebono", "shuguang"],
    ["天合", "trw", "tianhe"],
    ["飞利浦", "philips", "feilipu"],
    ["欧司朗", "osram", "ousilang"],
    ["法雷奥", "valeo", "faleiao"],
]


def load(synonym_set_model, glossary=GLOSSARY):
    """Add the glossary's sets that are missing. A set is skipped when any of its terms
    already belongs to a set (staff edits win); idempotent. Returns how many were added.
    `synonym_set_model` is the model class (the migration passes its historical one)."""
    from .text import fold

    taken = set()
    for terms in synonym_set_model.objects.values_list("terms", flat=True):
        taken.update(terms)
    created = []
    for terms in glossary:
        folded = list(dict.fromkeys(fold(t) for t in terms if fold(t)))
        if len(folded) < 2 or taken & set(folded):
            continue
        taken.update(folded)
        created.append(synonym_set_model(terms=folded))
    synonym_set_model.objects.bulk_create(created)
    return len(created)


def load_glossary():
    """The default glossary into the live tables (demo loader, tests); clears the cache."""
    from . import synonyms
    from .models import SynonymSet

    added = load(SynonymSet)
    synonyms.forget()
    return added
