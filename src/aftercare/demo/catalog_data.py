"""The demo shop's catalogue: "Ember & Leaf", a small coffee & tea roaster with 52 products in
8 categories, their cross-sells and upsells, and the coupon codes its orders use.

Plain data plus two small rules (which price applies in which currency, how popular a product
is for whom and when), so the history generator and the tests read the same catalogue. Prices
are set in US dollars and converted for stores in other currencies.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True, slots=True)
class CategorySpec:
    key: str
    name: str
    slug: str


@dataclass(frozen=True, slots=True)
class ProductSpec:
    sku: str
    name: str
    category: str  # CategorySpec.key
    usd: str  # regular price in US dollars
    popularity: float  # relative chance of being picked
    consumable: bool = False  # bought again and in quantities
    launch_week: int = 0  # weeks after the shop opened
    holiday_only: bool = False  # sold in November and December only
    favoured_by: str = ""  # a locale that buys it three times as often
    sale_usd: str = ""  # on sale for the last weeks of the history
    description: str = ""
    cross_sells: tuple[str, ...] = ()  # SKUs shown in the cart
    upsells: tuple[str, ...] = ()  # SKUs shown on the product page (pricier alternatives)


@dataclass(frozen=True, slots=True)
class CouponSpec:
    code: str  # WooCommerce stores coupon codes lower-cased
    discount_type: str  # "percent" | "fixed_cart"
    amount: str  # percent, or US dollars for fixed_cart
    description: str
    free_shipping: bool = False
    minimum_usd: str = "0.00"
    created_week: int = 0


CATEGORIES = (
    CategorySpec("single", "Single-Origin Coffee", "single-origin-coffee"),
    CategorySpec("blends", "Blends & Espresso", "blends-espresso"),
    CategorySpec("tea", "Loose-Leaf Tea", "loose-leaf-tea"),
    CategorySpec("matcha", "Matcha & Tea Powders", "matcha-tea-powders"),
    CategorySpec("gear", "Brewing Gear", "brewing-gear"),
    CategorySpec("mugs", "Mugs & Drinkware", "mugs-drinkware"),
    CategorySpec("gifts", "Gift Sets", "gift-sets"),
    CategorySpec("snacks", "Snacks & Sweets", "snacks-sweets"),
)

_FILTERS = ("GEAR-FILTER-100",)
_POUR_OVER = ("GEAR-DRIP-CER", "GEAR-FILTER-100", "GEAR-KETTLE-1L")
_TEA_GEAR = ("GEAR-TEAPOT-GLS", "MUG-YUNOMI")
_MATCHA_GEAR = ("MAT-CHASEN", "MAT-CHAWAN")

PRODUCTS = (
    # Single-origin coffee
    ProductSpec("SO-ETH-YIR-12", "Ethiopia Yirgacheffe Kochere, 12 oz", "single", "19.50", 8, True,
                description="Washed heirloom varietals; jasmine, bergamot and lemon curd.",
                cross_sells=_POUR_OVER, upsells=("SO-PAN-GEI-4",)),
    ProductSpec("SO-KEN-NYE-12", "Kenya Nyeri AA, 12 oz", "single", "21.00", 5, True,
                description="Blackcurrant, grapefruit and a syrupy body.",
                cross_sells=_FILTERS, upsells=("SO-PAN-GEI-4",)),
    ProductSpec("SO-COL-HUI-12", "Colombia Huila Supremo, 12 oz", "single", "17.50", 7, True,
                description="Caramel, red apple and milk chocolate.",
                cross_sells=("SNK-BISCOTTI",), upsells=("SO-CRI-TAR-12",)),
    ProductSpec("SO-GUA-HUE-12", "Guatemala Huehuetenango, 12 oz", "single", "18.50", 5, True,
                description="Cocoa, toffee and stone fruit.", cross_sells=_FILTERS),
    ProductSpec("SO-SUM-MAN-12", "Sumatra Mandheling, 12 oz", "single", "17.00", 4, True,
                description="Earthy, cedar and dark chocolate; great in a French press.",
                cross_sells=("GEAR-FRENCH-34",)),
    ProductSpec("SO-CRI-TAR-12", "Costa Rica Tarrazú Honey, 12 oz", "single", "20.00", 3, True,
                description="Honey-processed; brown sugar and tangerine.",
                sale_usd="17.00", cross_sells=_FILTERS),
    ProductSpec("SO-PAN-GEI-4", "Panama Geisha Esmeralda, 4 oz", "single", "38.00", 1, True,
                launch_week=60, description="Small lot; bergamot, peach and florals.",
                cross_sells=("GEAR-SCALE",)),
    ProductSpec("SO-BRA-CER-12", "Brazil Cerrado Natural, 12 oz", "single", "16.00", 4, True,
                description="Peanut, cocoa and low acidity.", cross_sells=("SNK-ESP-BEANS",)),
    # Blends & espresso
    ProductSpec("BL-HOUSE-12", "House Blend, 12 oz", "blends", "15.00", 10, True,
                description="Our everyday cup: chocolate, hazelnut, a clean finish.",
                cross_sells=("MUG-STONE-12", "SNK-BISCOTTI"), upsells=("BL-HOUSE-2LB",)),
    ProductSpec("BL-ESPRESSO-12", "Ember Espresso, 12 oz", "blends", "16.50", 9, True,
                description="Dense and sweet for espresso and milk drinks.",
                cross_sells=("MUG-ESP-SET2", "SNK-ESP-BEANS"), upsells=("GEAR-GRINDER",)),
    ProductSpec("BL-FRENCH-12", "Midnight French Roast, 12 oz", "blends", "15.50", 6, True,
                description="Smoky, bittersweet, bold.", cross_sells=("GEAR-FRENCH-34",)),
    ProductSpec("BL-DECAF-12", "Swiss Water Decaf, 12 oz", "blends", "17.00", 4, True,
                description="Chemical-free decaf with a caramel sweetness.",
                cross_sells=("SNK-BISCOTTI",)),
    ProductSpec("BL-HOUSE-2LB", "House Blend, 2 lb bag", "blends", "38.00", 3, True,
                description="The House Blend in our best-value bag.",
                cross_sells=("GEAR-GRINDER",)),
    ProductSpec("BL-HOLIDAY-12", "Holiday Blend, 12 oz", "blends", "17.50", 12, True,
                holiday_only=True, description="Spiced fruit and dark chocolate; winter only.",
                cross_sells=("GIFT-DISCOVERY", "SNK-ESP-BEANS")),
    ProductSpec("BL-COLDBREW-2LB", "Cold Brew Coarse Grind, 2 lb", "blends", "32.00", 3, True,
                description="Coarse-ground for steeping overnight.",
                cross_sells=("GEAR-COLDBREW",)),
    # Loose-leaf tea
    ProductSpec("TEA-DARJ-FF-100", "Darjeeling First Flush, 100 g", "tea", "16.00", 4, True,
                description="Muscatel and spring flowers.", cross_sells=_TEA_GEAR),
    ProductSpec("TEA-ASSAM-100", "Assam Breakfast, 100 g", "tea", "11.00", 6, True,
                description="Malty and brisk; takes milk well.", cross_sells=("SNK-HONEY",)),
    ProductSpec("TEA-EARLGREY-100", "Earl Grey Cream, 100 g", "tea", "12.50", 7, True,
                description="Bergamot with a vanilla finish.",
                cross_sells=("SNK-HONEY", "GEAR-TEAPOT-GLS")),
    ProductSpec("TEA-JEJU-50", "Jeju Sejak Green Tea, 50 g", "tea", "18.00", 4, True,
                favoured_by="ko", description="Early-spring leaves from Jeju Island; nutty.",
                cross_sells=_TEA_GEAR, upsells=("TEA-OOLONG-75",)),
    ProductSpec("TEA-SENCHA-100", "Japanese Sencha Asamushi, 100 g", "tea", "15.00", 5, True,
                favoured_by="ja", description="Lightly steamed; grassy and bright.",
                cross_sells=("MUG-YUNOMI",), upsells=("MAT-CEREMONIAL-30",)),
    ProductSpec("TEA-HOJICHA-80", "Hojicha Roasted Green Tea, 80 g", "tea", "13.00", 4, True,
                favoured_by="ja", description="Roasted stems and leaves; toasty, low caffeine.",
                cross_sells=("MUG-YUNOMI", "SNK-MATCHA-SHORT")),
    ProductSpec("TEA-OOLONG-75", "Taiwanese Oolong Dong Ding, 75 g", "tea", "17.00", 3, True,
                description="Roasted oolong; honey and orchid.", cross_sells=_TEA_GEAR),
    ProductSpec("TEA-CHAMOMILE-50", "Chamomile & Lavender, 50 g", "tea", "10.00", 4, True,
                description="A caffeine-free evening blend.", cross_sells=("SNK-HONEY",)),
    ProductSpec("TEA-CHAI-100", "Masala Chai, 100 g", "tea", "11.50", 5, True,
                description="Assam with cardamom, ginger and cinnamon.",
                cross_sells=("SNK-HONEY",)),
    ProductSpec("TEA-YUZU-50", "Yuzu Citron Green Tea, 50 g", "tea", "14.00", 3, True,
                favoured_by="ko", launch_week=30, description="Green tea with dried yuzu peel.",
                cross_sells=("SNK-YUZU-JAM",)),
    # Matcha & powders
    ProductSpec("MAT-CEREMONIAL-30", "Ceremonial Matcha, Uji, 30 g", "matcha", "29.00", 5, True,
                favoured_by="ja", description="Shade-grown tencha stone-milled in Uji.",
                cross_sells=_MATCHA_GEAR, upsells=("GIFT-MATCHA-RITUAL",)),
    ProductSpec("MAT-CULINARY-100", "Culinary Matcha, 100 g", "matcha", "19.00", 3, True,
                description="For lattes and baking.", cross_sells=("MAT-CHASEN",)),
    ProductSpec("MAT-HOJICHA-PWD-50", "Hojicha Powder, 50 g", "matcha", "14.00", 2, True,
                favoured_by="ja", description="Roasted green tea powder for lattes."),
    ProductSpec("MAT-CHASEN", "Chasen Bamboo Whisk", "matcha", "18.00", 3,
                description="80-prong whisk, hand-carved.", cross_sells=("MAT-CHAWAN",)),
    ProductSpec("MAT-CHAWAN", "Matcha Bowl (Chawan)", "matcha", "32.00", 2,
                description="Hand-thrown stoneware bowl.", cross_sells=("MAT-CHASEN",)),
    # Brewing gear
    ProductSpec("GEAR-DRIP-CER", "Ceramic Pour-Over Dripper", "gear", "24.00", 4,
                description="Fits #2 filters.", cross_sells=_FILTERS,
                upsells=("GIFT-POUROVER-SET",)),
    ProductSpec("GEAR-FILTER-100", "Paper Filters #2, 100 ct", "gear", "7.00", 6, True,
                description="Unbleached, oxygen-whitened."),
    ProductSpec("GEAR-KETTLE-1L", "Gooseneck Kettle, 1 L", "gear", "68.00", 2,
                description="Stovetop, with thermometer.", cross_sells=("GEAR-SCALE",)),
    ProductSpec("GEAR-GRINDER", "Hand Burr Grinder", "gear", "54.00", 2,
                description="Stainless conical burrs, 40 settings.",
                cross_sells=("BL-ESPRESSO-12",)),
    ProductSpec("GEAR-FRENCH-34", "French Press, 34 oz", "gear", "35.00", 3,
                description="Borosilicate glass, steel frame.",
                cross_sells=("SO-SUM-MAN-12", "BL-FRENCH-12")),
    ProductSpec("GEAR-TEAPOT-GLS", "Glass Teapot with Infuser", "gear", "28.00", 3,
                description="600 ml, heat-proof.", cross_sells=("TEA-EARLGREY-100",)),
    ProductSpec("GEAR-SCALE", "Digital Coffee Scale", "gear", "29.00", 2,
                description="0.1 g resolution with a timer.", cross_sells=("GEAR-DRIP-CER",)),
    ProductSpec("GEAR-COLDBREW", "Cold Brew Pitcher", "gear", "26.00", 2, launch_week=70,
                description="1.5 L with a fine mesh filter.",
                cross_sells=("BL-COLDBREW-2LB",)),
    # Mugs & drinkware
    ProductSpec("MUG-STONE-12", "Ember Stoneware Mug, 12 oz", "mugs", "18.00", 5,
                description="Speckled glaze, dishwasher safe.", sale_usd="14.40",
                cross_sells=("BL-HOUSE-12",)),
    ProductSpec("MUG-GLASS-PAIR", "Double-Wall Glass Cups, pair", "mugs", "22.00", 3,
                description="Keeps drinks hot and hands cool.", cross_sells=("TEA-OOLONG-75",)),
    ProductSpec("MUG-TUMBLER-16", "Travel Tumbler, 16 oz", "mugs", "27.00", 4,
                description="Vacuum insulated, leak-proof lid.", cross_sells=("BL-HOUSE-12",)),
    ProductSpec("MUG-YUNOMI", "Yunomi Tea Cup", "mugs", "16.00", 2, favoured_by="ja",
                description="Tall handle-less cup for green tea.",
                cross_sells=("TEA-SENCHA-100",)),
    ProductSpec("MUG-ESP-SET2", "Espresso Cups, set of 2", "mugs", "20.00", 2,
                description="3 oz porcelain with saucers.", cross_sells=("BL-ESPRESSO-12",)),
    # Gift sets
    ProductSpec("GIFT-DISCOVERY", "Coffee Discovery Box (4 x 4 oz)", "gifts", "42.00", 4, True,
                description="Four single origins, tasting notes included.",
                cross_sells=("MUG-STONE-12",), upsells=("GIFT-POUROVER-SET",)),
    ProductSpec("GIFT-TEA-SAMPLER", "Tea Sampler Tin Set", "gifts", "34.00", 3,
                description="Six 25 g tins of our favourite teas.",
                cross_sells=("GEAR-TEAPOT-GLS",)),
    ProductSpec("GIFT-POUROVER-SET", "Pour-Over Starter Gift Set", "gifts", "79.00", 2,
                description="Dripper, filters, a mug and 12 oz of House Blend.",
                sale_usd="64.00", cross_sells=("GEAR-KETTLE-1L",)),
    ProductSpec("GIFT-MATCHA-RITUAL", "Matcha Ritual Gift Set", "gifts", "65.00", 1,
                launch_week=80, favoured_by="ja",
                description="Ceremonial matcha, whisk, bowl and scoop in a wooden box."),
    # Snacks & sweets
    ProductSpec("SNK-ESP-BEANS", "Dark Chocolate Espresso Beans, 150 g", "snacks", "8.50", 5,
                True, description="Whole espresso beans in 70 % dark chocolate."),
    ProductSpec("SNK-BISCOTTI", "Almond Biscotti, 6 pack", "snacks", "9.00", 4, True,
                description="Twice-baked, made for dunking."),
    ProductSpec("SNK-MATCHA-SHORT", "Matcha Shortbread", "snacks", "9.50", 3, True,
                description="Butter shortbread with ceremonial matcha."),
    ProductSpec("SNK-HONEY", "Wildflower Honey Sticks, 20 ct", "snacks", "7.50", 2, True,
                description="Single-serve honey for tea."),
    ProductSpec("SNK-YUZU-JAM", "Yuzu Marmalade", "snacks", "11.00", 2, True, launch_week=40,
                favoured_by="ko", description="Korean yuja-cheong, for toast or hot tea."),
)  # fmt: skip

COUPONS = (
    CouponSpec("welcome10", "percent", "10", "10 % off a first order (newsletter sign-up)"),
    CouponSpec("freeship", "fixed_cart", "0", "Free shipping", free_shipping=True),
    CouponSpec("brewbetter5", "fixed_cart", "5", "$5 off orders over $40", minimum_usd="40.00",
               created_week=20),
    CouponSpec("holiday15", "percent", "15", "15 % off in the gift season", created_week=30),
    CouponSpec("thankyou10", "percent", "10", "Thank-you coupon for returning customers",
               created_week=8),
)  # fmt: skip

# (units per US dollar, smallest step) for the currencies the demo converts into.
_RATES: dict[str, tuple[Decimal, Decimal]] = {
    "USD": (Decimal("1"), Decimal("0.01")),
    "CAD": (Decimal("1.35"), Decimal("0.05")),
    "EUR": (Decimal("0.92"), Decimal("0.05")),
    "GBP": (Decimal("0.79"), Decimal("0.05")),
    "JPY": (Decimal("150"), Decimal("10")),
    "KRW": (Decimal("1350"), Decimal("100")),
}
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW"})
CURRENCY_SYMBOLS = {"USD": "$", "CAD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "KRW": "₩"}


def price_in(*, usd: str | Decimal, currency: str) -> Decimal:
    """A US-dollar list price in `currency`, rounded to the steps shops there price in (¥10,
    ₩100, 5 cents). Unknown currencies keep the dollar figure: a demo, not a price list."""
    rate, step = _RATES.get(currency, _RATES["USD"])
    amount = (Decimal(usd) * rate / step).quantize(Decimal("1"), rounding=ROUND_HALF_UP) * step
    return amount.quantize(Decimal("0.01"))


def by_sku() -> dict[str, ProductSpec]:
    return {spec.sku: spec for spec in PRODUCTS}
