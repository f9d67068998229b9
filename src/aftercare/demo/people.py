"""Who shops at the demo store: English-, Korean- and Japanese-speaking customers in the US,
the UK, Canada, Korea and Japan, with names in their own script at home (romanised abroad and in
emails), addresses, phones in national format, time zones, some birthdays and a disposition
to tick the newsletter box.

    person = draw_person(rng=random.Random("42:person:7"), today=date(2026, 5, 1))
    person.locale, person.time_zone, person.phone   # "ko", "Asia/Seoul", "010-0412-7731"

No real person can be reached through the demo: emails use the reserved `.example` top-level
domain (RFC 2606); US and Canadian phones the fictional 555-01XX range; UK phones Ofcom's
drama numbers (020 7946 0XXX and the like: landlines, valid but never assigned); Korean mobiles
010-0XXX-XXXX (a middle block starting with 0 is not handed out). Japan has no fictional range,
so Japanese mobiles get a middle block starting with 0, which is not a valid number: they stay
as typed and no SMS can go to them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True, slots=True)
class Place:
    country: str
    state: str  # WooCommerce state code where the country has a list (US, CA, JP)
    city: str
    postcode: str
    time_zone: str
    area: str  # phone area code (US/CA), the drama-range prefix (GB), or ""


@dataclass(frozen=True, slots=True)
class Person:
    locale: str  # "en" | "ko" | "ja" (WPML language codes)
    first_name: str
    last_name: str
    email: str
    username: str
    phone: str  # national format, "" when not given
    company: str
    address_1: str
    address_2: str
    place: Place
    birthday: date | None
    wants_newsletter: bool  # ticks the checkout's marketing box when it is offered


_US = (
    Place("US", "NY", "New York", "10003", "America/New_York", "212"),
    Place("US", "NY", "Brooklyn", "11215", "America/New_York", "718"),
    Place("US", "MA", "Boston", "02116", "America/New_York", "617"),
    Place("US", "PA", "Philadelphia", "19103", "America/New_York", "215"),
    Place("US", "IL", "Chicago", "60614", "America/Chicago", "312"),
    Place("US", "TX", "Austin", "78704", "America/Chicago", "512"),
    Place("US", "CO", "Denver", "80206", "America/Denver", "303"),
    Place("US", "WA", "Seattle", "98122", "America/Los_Angeles", "206"),
    Place("US", "OR", "Portland", "97214", "America/Los_Angeles", "503"),
    Place("US", "CA", "San Francisco", "94110", "America/Los_Angeles", "415"),
    Place("US", "CA", "Los Angeles", "90026", "America/Los_Angeles", "213"),
)
_US_KOREATOWNS = (_US[10], _US[1], _US[7])
_US_JAPANTOWNS = (_US[9], _US[10], _US[7], _US[0])
_GB = (
    Place("GB", "", "London", "EC1V 9HL", "Europe/London", "020 7946 0"),
    Place("GB", "", "London", "SE1 7PB", "Europe/London", "020 7946 0"),
    Place("GB", "", "Manchester", "M4 1HN", "Europe/London", "0161 496 0"),
    Place("GB", "", "Bristol", "BS1 5TR", "Europe/London", "0117 496 0"),
    Place("GB", "", "Edinburgh", "EH8 9AG", "Europe/London", "0131 496 0"),
)
_CA = (
    Place("CA", "ON", "Toronto", "M5V 2T6", "America/Toronto", "416"),
    Place("CA", "BC", "Vancouver", "V6B 1A1", "America/Vancouver", "604"),
)
_KR = (
    Place("KR", "Seoul", "Gangnam-gu", "06236", "Asia/Seoul", ""),
    Place("KR", "Seoul", "Mapo-gu", "04038", "Asia/Seoul", ""),
    Place("KR", "Seoul", "Jongno-gu", "03142", "Asia/Seoul", ""),
    Place("KR", "Busan", "Haeundae-gu", "48058", "Asia/Seoul", ""),
    Place("KR", "Incheon", "Yeonsu-gu", "21984", "Asia/Seoul", ""),
    Place("KR", "Gyeonggi-do", "Seongnam-si", "13494", "Asia/Seoul", ""),
)
_JP = (
    Place("JP", "JP13", "Shibuya-ku", "150-0001", "Asia/Tokyo", ""),
    Place("JP", "JP13", "Setagaya-ku", "154-0004", "Asia/Tokyo", ""),
    Place("JP", "JP27", "Osaka-shi Kita-ku", "530-0001", "Asia/Tokyo", ""),
    Place("JP", "JP14", "Yokohama-shi Nishi-ku", "220-0012", "Asia/Tokyo", ""),
    Place("JP", "JP26", "Kyoto-shi Nakagyo-ku", "604-8005", "Asia/Tokyo", ""),
    Place("JP", "JP01", "Sapporo-shi Chuo-ku", "060-0001", "Asia/Tokyo", ""),
    Place("JP", "JP40", "Fukuoka-shi Chuo-ku", "810-0001", "Asia/Tokyo", ""),
)

_EN_FIRST = (
    "James", "Olivia", "Liam", "Emma", "Noah", "Ava", "Oliver", "Sophia", "Elijah", "Isabella",
    "William", "Mia", "Henry", "Charlotte", "Lucas", "Amelia", "Benjamin", "Harper", "Theo",
    "Evelyn", "Jack", "Abigail", "Daniel", "Emily", "Samuel", "Ella", "David", "Grace", "Owen",
    "Chloe", "Nathan", "Lily", "Ryan", "Hannah", "Matthew", "Zoe", "Aaron", "Nora", "Caleb",
    "Maya", "Priya", "Diego", "Sofia", "Andre", "Fatima", "Mateo", "Aisha", "Rohan", "Elena",
    "Marcus",
)  # fmt: skip
_EN_LAST = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee",
    "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen",
    "Wright", "Scott", "Hill", "Green", "Adams", "Baker", "Nelson", "Carter", "Mitchell",
    "Patel", "Nguyen", "Murphy", "Cooper", "Reed", "Bailey", "Kelly", "Howard", "Ward", "Evans",
    "Hughes", "Price", "Bennett", "Shah",
)  # fmt: skip
# (Hangul, romanisation), the commonest surnames first and weighted roughly by frequency.
_KO_LAST = (
    ("김", "Kim"), ("이", "Lee"), ("박", "Park"), ("최", "Choi"), ("정", "Jung"), ("강", "Kang"),
    ("조", "Cho"), ("윤", "Yoon"), ("장", "Jang"), ("임", "Lim"), ("한", "Han"), ("오", "Oh"),
    ("서", "Seo"), ("신", "Shin"), ("권", "Kwon"), ("황", "Hwang"), ("안", "Ahn"), ("송", "Song"),
    ("유", "Yoo"), ("홍", "Hong"),
)  # fmt: skip
_KO_LAST_WEIGHTS = (21, 15, 8, 5, 5, 2, 2, 2, 2, 2, 2, 1.5, 1.5, 1.5, 1.4, 1.4, 1.3, 1.3, 1.2, 1.1)
_KO_FIRST = (
    ("민준", "Min-jun"), ("서연", "Seo-yeon"), ("지훈", "Ji-hoon"), ("지우", "Ji-woo"),
    ("하은", "Ha-eun"), ("도윤", "Do-yun"), ("서준", "Seo-jun"), ("수빈", "Su-bin"),
    ("예진", "Ye-jin"), ("현우", "Hyun-woo"), ("은지", "Eun-ji"), ("재원", "Jae-won"),
    ("민서", "Min-seo"), ("유나", "Yu-na"), ("태양", "Tae-yang"), ("지민", "Ji-min"),
    ("수아", "Su-a"), ("동현", "Dong-hyun"), ("혜진", "Hye-jin"), ("성민", "Sung-min"),
    ("영호", "Young-ho"), ("미경", "Mi-kyung"), ("정훈", "Jung-hoon"), ("소연", "So-yeon"),
)  # fmt: skip
_JA_LAST = (
    ("佐藤", "Sato"), ("鈴木", "Suzuki"), ("高橋", "Takahashi"), ("田中", "Tanaka"),
    ("伊藤", "Ito"), ("渡辺", "Watanabe"), ("山本", "Yamamoto"), ("中村", "Nakamura"),
    ("小林", "Kobayashi"), ("加藤", "Kato"), ("吉田", "Yoshida"), ("山田", "Yamada"),
    ("佐々木", "Sasaki"), ("山口", "Yamaguchi"), ("松本", "Matsumoto"), ("井上", "Inoue"),
    ("木村", "Kimura"), ("林", "Hayashi"), ("清水", "Shimizu"), ("森", "Mori"),
)  # fmt: skip
_JA_FIRST = (
    ("翔太", "Shota"), ("陽菜", "Hina"), ("大翔", "Hiroto"), ("結衣", "Yui"), ("蓮", "Ren"),
    ("美咲", "Misaki"), ("健太", "Kenta"), ("さくら", "Sakura"), ("悠真", "Yuma"), ("葵", "Aoi"),
    ("拓海", "Takumi"), ("美穂", "Miho"), ("直樹", "Naoki"), ("恵", "Megumi"), ("和也", "Kazuya"),
    ("由美", "Yumi"), ("誠", "Makoto"), ("彩", "Aya"), ("隆", "Takashi"), ("真由美", "Mayumi"),
)  # fmt: skip

_DOMAINS = {
    "US": ("gmail.example", "outlook.example", "icloud.example", "yahoo.example"),
    "GB": ("gmail.example", "outlook.example", "btinternet.example", "icloud.example"),
    "CA": ("gmail.example", "outlook.example", "icloud.example"),
    "KR": ("naver.example", "naver.example", "daum.example", "kakao.example", "gmail.example"),
    "JP": ("gmail.example", "yahoo-jp.example", "docomo.example", "icloud.example"),
}
_STREETS = {
    "US": ("Maple Avenue", "Oak Street", "Pine Street", "Cedar Lane", "Park Avenue",
           "Washington Street", "Elm Street", "Highland Avenue", "Lake Street", "Union Street"),
    "CA": ("Queen Street West", "King Street East", "Granville Street", "Main Street"),
    "GB": ("High Street", "Church Road", "Station Road", "Victoria Road", "Mill Lane",
           "Kings Road"),
    "KR": ("Teheran-ro", "Sejong-daero", "Yanghwa-ro", "Haeundae-ro", "Dosan-daero",
           "Songdo-gwahak-ro"),
    "JP": ("Jingumae", "Sangenjaya", "Umeda", "Minatomirai", "Sanjo-dori", "Kita 1-jo Nishi",
           "Tenjin"),
}  # fmt: skip
_COMPANIES = ("Northwind Design Studio", "Harbor Street Dental", "Blue Fern Architects",
              "Quill & Ink Bookshop", "Pinecone Yoga")  # fmt: skip


def _place(*, locale: str, rng: random.Random) -> Place:
    roll = rng.random()
    if locale == "ko":
        return rng.choice(_US_KOREATOWNS if roll < 0.25 else _KR)
    if locale == "ja":
        return rng.choice(_US_JAPANTOWNS if roll < 0.15 else _JP)
    if roll < 0.78:
        return rng.choice(_US)
    return rng.choice(_GB if roll < 0.95 else _CA)


def _phone(*, place: Place, rng: random.Random) -> str:
    tail = rng.randrange(10_000)
    if place.country in ("US", "CA"):
        return f"({place.area}) 555-01{tail % 100:02d}"
    if place.country == "GB":
        return f"{place.area}{tail % 1000:03d}"
    middle = f"0{rng.randrange(1000):03d}"
    prefix = "010" if place.country == "KR" else rng.choice(("070", "080", "090"))
    return f"{prefix}-{middle}-{tail:04d}"


def _address(*, place: Place, rng: random.Random) -> tuple[str, str]:
    street = rng.choice(_STREETS[place.country])
    if place.country == "KR":
        line2 = f"{rng.randint(101, 112)}-dong {rng.randint(2, 25)}0{rng.randint(1, 6)}-ho"
        return f"{street} {rng.randint(10, 420)}", line2 if rng.random() < 0.6 else ""
    if place.country == "JP":
        block = f"{rng.randint(1, 6)}-{rng.randint(1, 24)}-{rng.randint(1, 18)} {street}"
        return block, f"Room {rng.randint(1, 12)}0{rng.randint(1, 8)}" if rng.random() < 0.5 else ""
    if place.country == "GB":
        return (
            f"{rng.randint(1, 240)} {street}",
            f"Flat {rng.randint(1, 9)}" if rng.random() < 0.3 else "",
        )
    line2 = f"Apt {rng.randint(1, 12)}{rng.choice('ABCDEF')}" if rng.random() < 0.35 else ""
    return f"{rng.randint(10, 2999)} {street}", line2


def _names(*, locale: str, place: Place, rng: random.Random) -> tuple[str, str, str, str]:
    """(first, last) as the customer types them, and their romanised forms for the email."""
    if locale == "ko":
        last, last_roman = rng.choices(_KO_LAST, weights=_KO_LAST_WEIGHTS)[0]
        first, first_roman = rng.choice(_KO_FIRST)
    elif locale == "ja":
        last, last_roman = rng.choice(_JA_LAST)
        first, first_roman = rng.choice(_JA_FIRST)
    else:
        first = first_roman = rng.choice(_EN_FIRST)
        last = last_roman = rng.choice(_EN_LAST)
    if place.country not in ("KR", "JP"):  # abroad, people type their names in Latin letters
        first, last = first_roman, last_roman
    return first, last, first_roman, last_roman


def _email_local(*, first: str, last: str, rng: random.Random, born: int) -> str:
    first = first.lower().replace("-", "")
    last = last.lower()
    style = rng.randrange(6)
    if style == 0:
        return f"{first}.{last}"
    if style == 1:
        return f"{first}{last}{born % 100:02d}"
    if style == 2:
        return f"{first[0]}{last}"
    if style == 3:
        return f"{last}.{first}"
    if style == 4:
        return f"{first}_{last}{rng.randint(1, 99)}"
    return f"{first}{rng.randint(100, 9999)}"


def draw_person(*, rng: random.Random, today: date) -> Person:
    """One customer. `today` anchors ages (birthdays are 18 to 72 years back)."""
    locale = rng.choices(("en", "ko", "ja"), weights=(70, 16, 14))[0]
    place = _place(locale=locale, rng=rng)
    first, last, first_roman, last_roman = _names(locale=locale, place=place, rng=rng)
    age_days = int((18 + rng.betavariate(2.0, 3.0) * 54) * 365.25)
    born = today - timedelta(days=age_days)
    local = _email_local(first=first_roman, last=last_roman, rng=rng, born=born.year)
    address_1, address_2 = _address(place=place, rng=rng)
    company = rng.choice(_COMPANIES) if locale == "en" and rng.random() < 0.03 else ""
    return Person(
        locale=locale,
        first_name=first,
        last_name=last,
        email=f"{local}@{rng.choice(_DOMAINS[place.country])}",
        username=local,
        phone=_phone(place=place, rng=rng) if rng.random() < 0.65 else "",
        company=company,
        address_1=address_1,
        address_2=address_2,
        place=place,
        birthday=born if rng.random() < 0.35 else None,
        wants_newsletter=rng.random() < 0.42,
    )


def unique_email(*, email: str, taken: set[str]) -> str:
    """`email`, or with a number added to the local part when someone already has it; records
    the result in `taken`."""
    candidate, n = email, 1
    while candidate in taken:
        n += 1
        local, _, domain = email.partition("@")
        candidate = f"{local}{n}@{domain}"
    taken.add(candidate)
    return candidate
