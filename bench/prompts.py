"""Product-description prompts shared by the generation benchmarks (written for them)."""

PRODUCTS = [
    ("Aeropress coffee maker", "BPA-free plastic, makes 1-3 cups, includes 350 filters"),
    ("Merino wool hiking socks", "cushioned sole, sizes 39-46, pack of 3"),
    ("Cast iron skillet", "26 cm, pre-seasoned, oven safe to 260 C"),
    ("Noise-cancelling headphones", "over-ear, 30 h battery, USB-C charging"),
    ("Bamboo cutting board", "45 x 30 cm, juice groove, reversible"),
    ("LED desk lamp", "dimmable, 3 colour temperatures, USB charging port"),
    ("Stainless steel water bottle", "750 ml, double-walled, keeps drinks cold 24 h"),
    ("Yoga mat", "6 mm thick, non-slip, recycled rubber, carry strap"),
    ("Mechanical keyboard", "tenkeyless, brown switches, white backlight"),
    ("Linen duvet cover", "double size, stone washed, natural colour"),
    ("Electric kettle", "1.7 l, glass body, temperature control"),
    ("Children's picture book", "hardback, 32 pages, about a brave hedgehog"),
    ("Trail running shoes", "waterproof membrane, 8 mm drop, grippy lugs"),
    ("Ceramic plant pot", "20 cm, drainage hole, matte terracotta glaze"),
    ("Wireless mouse", "ergonomic, silent clicks, 18-month battery life"),
    ("Chef's knife", "20 cm blade, Japanese steel, walnut handle"),
    ("Rain jacket", "packable, taped seams, adjustable hood"),
    ("Scented soy candle", "fig and cedar, 40 h burn time, glass jar"),
    ("Portable Bluetooth speaker", "waterproof IP67, 12 h playtime"),
    ("Organic green tea", "loose leaf, 100 g tin, from Shizuoka"),
    ("Kids' bicycle helmet", "adjustable fit, LED rear light, sizes 48-54 cm"),
    ("Leather wallet", "bifold, 8 card slots, RFID blocking"),
    ("Wool throw blanket", "130 x 170 cm, herringbone pattern"),
    ("Digital kitchen scale", "5 kg capacity, 1 g precision, tare function"),
    ("Camping hammock", "parachute nylon, holds 200 kg, tree straps included"),
    ("Sunglasses", "polarised lenses, acetate frame, UV400"),
    ("Board game", "2-4 players, ages 10+, about building railways"),
    ("Espresso cups", "set of 4, porcelain, 80 ml"),
    ("Desk organiser", "oak wood, three compartments, phone stand"),
    ("Electric toothbrush", "sonic, 2-minute timer, 3 brush heads"),
    ("Dog bed", "orthopaedic foam, washable cover, size L"),
    ("Watercolour paint set", "24 colours, travel case, two brushes"),
]

SYSTEM = "You write short, friendly product descriptions for an online shop."


def conversations(count: int) -> list[list[dict[str, str]]]:
    items = [PRODUCTS[i % len(PRODUCTS)] for i in range(count)]
    return [
        [
            {"role": "system", "content": SYSTEM},
            {
                "role": "user",
                "content": f"Write a two-sentence product description for: {title}, {attributes}",
            },
        ]
        for title, attributes in items
    ]
