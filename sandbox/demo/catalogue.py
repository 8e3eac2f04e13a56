"""The demo shop as plain data: product classes, products, shoppers, reviews and activity.

Every brand, product, person, address and review here is invented for the sandbox. The
loader (:mod:`sandbox.demo.loader`) turns this into Oscar models; nothing in this module
touches Django, so it can be read (and tested) without a database.

Conventions:

* attribute types are Oscar's ``ProductAttribute`` type values (the constants below);
* ``option`` values are the option's text, ``multi_option`` values a list of texts,
  ``date`` values :class:`datetime.date`;
* prices are strings in GBP, turned into ``Decimal`` by the loader;
* a product with ``children`` is an Oscar parent product: the children carry the price and
  stock, the parent carries the category and the shared attributes;
* a product without ``description`` and ``attributes`` is deliberately thin, as many real
  shops have some.
"""

from datetime import date

# Oscar's attribute types (oscar.apps.catalogue.abstract_models.AbstractProductAttribute).
TEXT = "text"
INTEGER = "integer"
BOOLEAN = "boolean"
FLOAT = "float"
RICHTEXT = "richtext"
DATE = "date"
OPTION = "option"
MULTI_OPTION = "multi_option"

PARTNER_NAME = "Oscar GPT Demo Warehouse"
CURRENCY = "GBP"

SHIPPING_COUNTRY = {
    "iso_3166_1_a2": "GB",
    "iso_3166_1_a3": "GBR",
    "iso_3166_1_numeric": "826",
    "printable_name": "United Kingdom",
    "name": "United Kingdom of Great Britain and Northern Ireland",
}

COLOURS = ["Black", "White", "Silver", "Graphite", "Navy", "Sand", "Forest green", "Red"]

# --------------------------------------------------------------------------------------------
# Product classes and their attributes
# --------------------------------------------------------------------------------------------

PRODUCT_CLASSES = [
    {
        "slug": "headphones",
        "name": "Headphones",
        "attributes": [
            {
                "code": "form_factor",
                "name": "Form factor",
                "type": OPTION,
                "options": ["Over-ear", "On-ear", "In-ear"],
            },
            {"code": "wireless", "name": "Wireless", "type": BOOLEAN},
            {"code": "noise_cancelling", "name": "Noise cancelling", "type": BOOLEAN},
            {"code": "battery_life_hours", "name": "Battery life (hours)", "type": INTEGER},
            {"code": "driver_size_mm", "name": "Driver size (mm)", "type": FLOAT},
            {"code": "weight_g", "name": "Weight (g)", "type": FLOAT},
            {"code": "impedance_ohm", "name": "Impedance (ohm)", "type": INTEGER},
            {
                "code": "connectivity",
                "name": "Connectivity",
                "type": MULTI_OPTION,
                "options": [
                    "Bluetooth 5.3",
                    "Bluetooth 5.0",
                    "USB-C",
                    "3.5 mm jack",
                    "2.4 GHz dongle",
                ],
            },
            {"code": "microphone", "name": "Built-in microphone", "type": BOOLEAN},
            {"code": "water_resistance", "name": "Water resistance", "type": TEXT},
            {"code": "codecs", "name": "Bluetooth codecs", "type": TEXT},
            {"code": "colour", "name": "Colour", "type": OPTION, "options": COLOURS},
        ],
    },
    {
        "slug": "laptops",
        "name": "Laptops",
        "attributes": [
            {"code": "screen_size_in", "name": "Screen size (in)", "type": FLOAT},
            {"code": "resolution", "name": "Screen resolution", "type": TEXT},
            {"code": "touchscreen", "name": "Touchscreen", "type": BOOLEAN},
            {"code": "processor", "name": "Processor", "type": TEXT},
            {"code": "graphics", "name": "Graphics", "type": TEXT},
            {"code": "ram_gb", "name": "RAM (GB)", "type": INTEGER},
            {"code": "storage_gb", "name": "Storage (GB)", "type": INTEGER},
            {"code": "weight_kg", "name": "Weight (kg)", "type": FLOAT},
            {"code": "battery_life_hours", "name": "Battery life (hours)", "type": INTEGER},
            {
                "code": "operating_system",
                "name": "Operating system",
                "type": OPTION,
                "options": ["Windows 11 Home", "Windows 11 Pro", "ChromeOS", "Ubuntu Linux"],
            },
            {
                "code": "ports",
                "name": "Ports",
                "type": MULTI_OPTION,
                "options": [
                    "USB-C",
                    "Thunderbolt 4",
                    "USB-A",
                    "HDMI",
                    "SD card reader",
                    "Ethernet",
                    "3.5 mm jack",
                ],
            },
            {"code": "release_date", "name": "Release date", "type": DATE},
            {"code": "colour", "name": "Colour", "type": OPTION, "options": COLOURS},
        ],
    },
    {
        "slug": "running-shoes",
        "name": "Running shoes",
        "attributes": [
            {
                "code": "terrain",
                "name": "Terrain",
                "type": OPTION,
                "options": ["Road", "Trail", "Track", "Treadmill"],
            },
            {
                "code": "cushioning",
                "name": "Cushioning",
                "type": OPTION,
                "options": ["Minimal", "Balanced", "Maximal"],
            },
            {"code": "drop_mm", "name": "Drop (mm)", "type": FLOAT},
            {"code": "stack_height_mm", "name": "Heel stack height (mm)", "type": FLOAT},
            {"code": "weight_g", "name": "Weight (g)", "type": FLOAT},
            {"code": "lug_depth_mm", "name": "Lug depth (mm)", "type": FLOAT},
            {"code": "waterproof", "name": "Waterproof", "type": BOOLEAN},
            {"code": "carbon_plate", "name": "Carbon plate", "type": BOOLEAN},
            {"code": "upper", "name": "Upper material", "type": TEXT},
            {
                "code": "width",
                "name": "Width",
                "type": OPTION,
                "options": ["Standard", "Wide"],
            },
            {
                "code": "uk_size",
                "name": "UK size",
                "type": OPTION,
                "options": ["5", "6", "7", "8", "9", "10", "11", "12"],
            },
            {"code": "colour", "name": "Colour", "type": OPTION, "options": COLOURS},
        ],
    },
    {
        "slug": "coffee-machines",
        "name": "Coffee machines",
        "attributes": [
            {
                "code": "machine_type",
                "name": "Machine type",
                "type": OPTION,
                "options": ["Espresso", "Bean-to-cup", "Filter", "Pod", "Stovetop", "Cold brew"],
            },
            {"code": "pressure_bar", "name": "Pressure (bar)", "type": FLOAT},
            {"code": "water_tank_l", "name": "Water tank (l)", "type": FLOAT},
            {"code": "power_w", "name": "Power (W)", "type": INTEGER},
            {"code": "cups_per_brew", "name": "Cups per brew", "type": INTEGER},
            {"code": "milk_frother", "name": "Milk frother", "type": BOOLEAN},
            {"code": "built_in_grinder", "name": "Built-in grinder", "type": BOOLEAN},
            {"code": "programmable", "name": "Programmable timer", "type": BOOLEAN},
            {
                "code": "drinks",
                "name": "Drinks",
                "type": MULTI_OPTION,
                "options": [
                    "Espresso",
                    "Lungo",
                    "Americano",
                    "Cappuccino",
                    "Latte",
                    "Flat white",
                    "Filter coffee",
                    "Cold brew",
                    "Hot water",
                ],
            },
            {"code": "warranty_years", "name": "Warranty (years)", "type": INTEGER},
            {"code": "colour", "name": "Colour", "type": OPTION, "options": COLOURS},
        ],
    },
    {
        "slug": "books",
        "name": "Books",
        "attributes": [
            {"code": "author", "name": "Author", "type": TEXT},
            {"code": "publisher", "name": "Publisher", "type": TEXT},
            {"code": "pages", "name": "Pages", "type": INTEGER},
            {"code": "publication_date", "name": "Publication date", "type": DATE},
            {
                "code": "book_format",
                "name": "Format",
                "type": OPTION,
                "options": ["Hardback", "Paperback"],
            },
            {
                "code": "language",
                "name": "Language",
                "type": OPTION,
                "options": ["English", "German", "French"],
            },
            {
                "code": "genres",
                "name": "Genres",
                "type": MULTI_OPTION,
                "options": [
                    "Literary fiction",
                    "Crime",
                    "Science fiction",
                    "Fantasy",
                    "Historical fiction",
                    "Popular science",
                    "History",
                    "Food and drink",
                    "Sport",
                    "Computing",
                    "Travel",
                ],
            },
            {"code": "signed_copy", "name": "Signed copy", "type": BOOLEAN},
            {"code": "contents", "name": "Contents", "type": RICHTEXT},
        ],
    },
    {
        "slug": "smart-watches",
        "name": "Smart watches and fitness trackers",
        "attributes": [
            {"code": "battery_life_days", "name": "Battery life (days)", "type": INTEGER},
            {"code": "display_size_in", "name": "Display size (in)", "type": FLOAT},
            {"code": "gps", "name": "Built-in GPS", "type": BOOLEAN},
            {"code": "heart_rate", "name": "Heart-rate sensor", "type": BOOLEAN},
            {"code": "water_resistance_m", "name": "Water resistance (m)", "type": INTEGER},
            {"code": "weight_g", "name": "Weight (g)", "type": FLOAT},
            {
                "code": "compatible_with",
                "name": "Compatible with",
                "type": MULTI_OPTION,
                "options": ["Android", "iOS"],
            },
            {"code": "colour", "name": "Colour", "type": OPTION, "options": COLOURS},
        ],
    },
]

# --------------------------------------------------------------------------------------------
# Products
# --------------------------------------------------------------------------------------------

HEADPHONES = [
    {
        "upc": "OGD-HP-001",
        "title": "Kestrel Audio Quietline 700 wireless headphones",
        "category": "Audio > Headphones",
        "price": "249.00",
        "stock": 18,
        "description": (
            "Our quietest over-ear pair. The noise cancelling takes the rumble out of a train "
            "carriage without that pressure-in-the-ears feeling, and a full charge lasts 40 "
            "hours. Fold flat into the hard case."
        ),
        "attributes": {
            "form_factor": "Over-ear",
            "wireless": True,
            "noise_cancelling": True,
            "battery_life_hours": 40,
            "driver_size_mm": 40.0,
            "weight_g": 254.0,
            "connectivity": ["Bluetooth 5.3", "USB-C", "3.5 mm jack"],
            "microphone": True,
            "codecs": "SBC, AAC, LDAC",
            "colour": "Black",
        },
    },
    {
        "upc": "OGD-HP-002",
        "title": "Marlow Voyager ANC headphones",
        "category": "Audio > Headphones",
        "price": "179.00",
        "stock": 30,
        "description": (
            "Built for long-haul trips: 60 hours of playback with noise cancelling switched on, "
            "and ten minutes on the charger gives you another five. Soft protein-leather "
            "cushions that stay comfortable on a twelve-hour flight."
        ),
        "attributes": {
            "form_factor": "Over-ear",
            "wireless": True,
            "noise_cancelling": True,
            "battery_life_hours": 60,
            "driver_size_mm": 40.0,
            "weight_g": 290.0,
            "connectivity": ["Bluetooth 5.3", "USB-C"],
            "microphone": True,
            "codecs": "SBC, AAC",
            "colour": "Navy",
        },
    },
    {
        "upc": "OGD-HP-003",
        "title": "Sonnet & Finch Studio Reference 80",
        "category": "Audio > Headphones",
        "price": "149.00",
        "stock": 12,
        "description": (
            "Closed-back studio monitors with a flat, honest sound. Plug straight into an "
            "interface or amp; there is no battery to run down and nothing to pair."
        ),
        "attributes": {
            "form_factor": "Over-ear",
            "wireless": False,
            "noise_cancelling": False,
            "driver_size_mm": 50.0,
            "weight_g": 320.0,
            "impedance_ohm": 80,
            "connectivity": ["3.5 mm jack"],
            "microphone": False,
            "colour": "Black",
        },
    },
    {
        "upc": "OGD-HP-004",
        "title": "Helix Pulse Buds",
        "category": "Audio > Earbuds",
        "price": "99.00",
        "stock": 40,
        "description": (
            "Small true-wireless earbuds with noise cancelling that punches above their price. "
            "Six hours per charge, three more refills in the pocket-sized case."
        ),
        "attributes": {
            "form_factor": "In-ear",
            "wireless": True,
            "noise_cancelling": True,
            "battery_life_hours": 6,
            "driver_size_mm": 10.0,
            "weight_g": 5.2,
            "connectivity": ["Bluetooth 5.3", "USB-C"],
            "microphone": True,
            "water_resistance": "IPX4",
            "codecs": "SBC, AAC",
            "colour": "White",
        },
    },
    {
        "upc": "OGD-HP-005",
        "title": "Tidewell Drift on-ear headphones",
        "category": "Audio > Headphones",
        "price": "59.00",
        "stock": 35,
        "description": (
            "Light, foldable on-ear headphones for the walk to work. No noise cancelling, but a "
            "35-hour battery and a bright, punchy tuning."
        ),
        "attributes": {
            "form_factor": "On-ear",
            "wireless": True,
            "noise_cancelling": False,
            "battery_life_hours": 35,
            "driver_size_mm": 32.0,
            "weight_g": 165.0,
            "connectivity": ["Bluetooth 5.0", "USB-C"],
            "microphone": True,
            "colour": "Sand",
        },
    },
    {
        "upc": "OGD-HP-006",
        "title": "Kestrel Audio Quietline 500",
        "category": "Audio > Headphones",
        "price": "169.00",
        "stock": 22,
        "description": (
            "The Quietline sound and noise cancelling in a lighter frame. Battery life is a "
            "more modest 22 hours, enough for a working week of commuting."
        ),
        "attributes": {
            "form_factor": "Over-ear",
            "wireless": True,
            "noise_cancelling": True,
            "battery_life_hours": 22,
            "driver_size_mm": 40.0,
            "weight_g": 228.0,
            "connectivity": ["Bluetooth 5.3", "USB-C"],
            "microphone": True,
            "codecs": "SBC, AAC",
            "colour": "Silver",
        },
    },
    {
        "upc": "OGD-HP-007",
        "title": "Orrin Flight wired noise-cancelling headphones",
        "category": "Audio > Headphones",
        "price": "89.00",
        "stock": 15,
        "description": (
            "For people who would rather not pair anything: a cable, a switch for the noise "
            "cancelling and a single AAA cell that keeps it running for 30 hours. Comes with "
            "an airline adapter."
        ),
        "attributes": {
            "form_factor": "Over-ear",
            "wireless": False,
            "noise_cancelling": True,
            "battery_life_hours": 30,
            "driver_size_mm": 40.0,
            "weight_g": 240.0,
            "impedance_ohm": 32,
            "connectivity": ["3.5 mm jack"],
            "microphone": False,
            "colour": "Graphite",
        },
    },
    {
        "upc": "OGD-HP-008",
        "title": "Helix Sport Loop earbuds",
        "category": "Audio > Earbuds",
        "price": "69.00",
        "stock": 50,
        "description": (
            "Ear hooks that stay put on a hill sprint and an IPX7 rating that shrugs off rain "
            "and sweat. Nine hours per charge, no noise cancelling so you can hear traffic."
        ),
        "attributes": {
            "form_factor": "In-ear",
            "wireless": True,
            "noise_cancelling": False,
            "battery_life_hours": 9,
            "driver_size_mm": 12.0,
            "weight_g": 7.5,
            "connectivity": ["Bluetooth 5.3", "USB-C"],
            "microphone": True,
            "water_resistance": "IPX7",
            "colour": "Red",
        },
    },
    {
        "upc": "OGD-HP-009",
        "title": "Marlow Voyager Lite",
        "category": "Audio > Headphones",
        "price": "89.00",
        "stock": 26,
        "description": (
            "The Voyager shell without the noise cancelling, which is how it reaches 45 hours "
            "on a charge. A sensible pick for the office or the sofa."
        ),
        "attributes": {
            "form_factor": "Over-ear",
            "wireless": True,
            "noise_cancelling": False,
            "battery_life_hours": 45,
            "driver_size_mm": 40.0,
            "weight_g": 262.0,
            "connectivity": ["Bluetooth 5.0", "USB-C", "3.5 mm jack"],
            "microphone": True,
            "colour": "Forest green",
        },
    },
    {
        "upc": "OGD-HP-010",
        "title": "Sonnet & Finch Open Back 6",
        "category": "Audio > Headphones",
        "price": "229.00",
        "stock": 8,
        "description": (
            "Open-back headphones with a wide, airy soundstage for quiet rooms and long "
            "listening sessions. They leak sound, so not one for the train."
        ),
        "attributes": {
            "form_factor": "Over-ear",
            "wireless": False,
            "noise_cancelling": False,
            "driver_size_mm": 45.0,
            "weight_g": 298.0,
            "impedance_ohm": 150,
            "connectivity": ["3.5 mm jack"],
            "microphone": False,
            "colour": "Silver",
        },
    },
    {
        "upc": "OGD-HP-011",
        "title": "Tidewell GX wireless gaming headset",
        "category": "Audio > Gaming headsets",
        "price": "119.00",
        "stock": 20,
        "description": (
            "Low-latency 2.4 GHz dongle for the console or PC, Bluetooth for the phone, and a "
            "flip-to-mute boom microphone. 24 hours of battery."
        ),
        "attributes": {
            "form_factor": "Over-ear",
            "wireless": True,
            "noise_cancelling": False,
            "battery_life_hours": 24,
            "driver_size_mm": 50.0,
            "weight_g": 335.0,
            "connectivity": ["2.4 GHz dongle", "Bluetooth 5.0", "USB-C"],
            "microphone": True,
            "colour": "Black",
        },
    },
    {
        # Thin: title only.
        "upc": "OGD-HP-012",
        "title": "Kestrel Audio K2 earbuds",
        "category": "Audio > Earbuds",
        "price": "39.00",
        "stock": 60,
    },
    {
        # Thin: title only.
        "upc": "OGD-HP-013",
        "title": "Marlow Junior headphones",
        "category": "Audio > Headphones",
        "price": "24.99",
        "stock": 45,
    },
    {
        "upc": "OGD-HP-014",
        "title": "Orrin Aria Pro ANC earbuds",
        "category": "Audio > Earbuds",
        "price": "189.00",
        "stock": 14,
        "description": (
            "Premium earbuds with adaptive noise cancelling and a transparency mode that "
            "sounds natural. Ten hours per charge, wireless charging case."
        ),
        "attributes": {
            "form_factor": "In-ear",
            "wireless": True,
            "noise_cancelling": True,
            "battery_life_hours": 10,
            "driver_size_mm": 11.0,
            "weight_g": 5.8,
            "connectivity": ["Bluetooth 5.3", "USB-C"],
            "microphone": True,
            "water_resistance": "IPX5",
            "codecs": "SBC, AAC, LDAC",
            "colour": "Black",
        },
    },
    {
        "upc": "OGD-HP-015",
        "title": "Tidewell Horizon Max ANC headphones",
        "category": "Audio > Headphones",
        "price": "139.00",
        "stock": 24,
        "description": (
            "Good noise cancelling at a fair price, with 55 hours of battery and a USB-C cable "
            "that doubles as a wired connection when you are out of charge."
        ),
        "attributes": {
            "form_factor": "Over-ear",
            "wireless": True,
            "noise_cancelling": True,
            "battery_life_hours": 55,
            "driver_size_mm": 40.0,
            "weight_g": 275.0,
            "connectivity": ["Bluetooth 5.3", "USB-C"],
            "microphone": True,
            "codecs": "SBC, AAC",
            "colour": "White",
        },
    },
]

LAPTOPS = [
    {
        "upc": "OGD-LT-001",
        "title": "Alder Air 13 laptop",
        "category": "Computers > Laptops",
        "price": "949.00",
        "stock": 10,
        "description": (
            "A quiet, fanless 13-inch laptop that weighs just over a kilo and lasts a full "
            "working day and then some. Two USB-C ports and a very good keyboard."
        ),
        "attributes": {
            "screen_size_in": 13.3,
            "resolution": "2560 x 1600",
            "touchscreen": False,
            "processor": "8-core ARM, 3.2 GHz",
            "graphics": "Integrated",
            "ram_gb": 16,
            "storage_gb": 512,
            "weight_kg": 1.15,
            "battery_life_hours": 18,
            "operating_system": "Windows 11 Home",
            "ports": ["USB-C", "3.5 mm jack"],
            "release_date": date(2024, 3, 14),
            "colour": "Silver",
        },
    },
    {
        "upc": "OGD-LT-002",
        "title": "Alder Air 15 laptop",
        "category": "Computers > Laptops",
        "price": "1149.00",
        "stock": 8,
        "description": (
            "The Air with a bigger screen and twice the storage. Still thin enough for a "
            "backpack sleeve, with speakers that are properly loud."
        ),
        "attributes": {
            "screen_size_in": 15.3,
            "resolution": "2880 x 1864",
            "touchscreen": False,
            "processor": "8-core ARM, 3.2 GHz",
            "graphics": "Integrated",
            "ram_gb": 16,
            "storage_gb": 1024,
            "weight_kg": 1.51,
            "battery_life_hours": 16,
            "operating_system": "Windows 11 Home",
            "ports": ["USB-C", "3.5 mm jack"],
            "release_date": date(2024, 3, 14),
            "colour": "Graphite",
        },
    },
    {
        "upc": "OGD-LT-003",
        "title": "Brightmoor Workmate 14",
        "category": "Computers > Laptops",
        "price": "549.00",
        "stock": 25,
        "description": (
            "An honest business laptop: matte screen, every port you are likely to need, "
            "including Ethernet, and a keyboard that survives a spilled tea."
        ),
        "attributes": {
            "screen_size_in": 14.0,
            "resolution": "1920 x 1080",
            "touchscreen": False,
            "processor": "Intel Core i5, 4 performance cores",
            "graphics": "Integrated",
            "ram_gb": 8,
            "storage_gb": 256,
            "weight_kg": 1.45,
            "battery_life_hours": 10,
            "operating_system": "Windows 11 Pro",
            "ports": ["USB-C", "USB-A", "HDMI", "Ethernet", "3.5 mm jack"],
            "release_date": date(2023, 9, 5),
            "colour": "Black",
        },
    },
    {
        "upc": "OGD-LT-004",
        "title": "Quillon Forge 16 gaming laptop",
        "category": "Computers > Gaming laptops",
        "price": "1899.00",
        "stock": 6,
        "description": (
            "A 240 Hz screen, a dedicated 8 GB graphics card and a cooling system that keeps "
            "it playable at high settings. Heavy, and the battery is for emergencies only."
        ),
        "attributes": {
            "screen_size_in": 16.0,
            "resolution": "2560 x 1600, 240 Hz",
            "touchscreen": False,
            "processor": "AMD Ryzen 9, 16 cores",
            "graphics": "Dedicated, 8 GB",
            "ram_gb": 32,
            "storage_gb": 2048,
            "weight_kg": 2.4,
            "battery_life_hours": 5,
            "operating_system": "Windows 11 Home",
            "ports": ["USB-C", "USB-A", "HDMI", "Ethernet", "3.5 mm jack"],
            "release_date": date(2024, 6, 20),
            "colour": "Black",
        },
    },
    {
        "upc": "OGD-LT-005",
        "title": "Fenwick Flip 14 2-in-1",
        "category": "Computers > Laptops",
        "price": "799.00",
        "stock": 12,
        "description": (
            "Folds back into a tablet for sketching or reading, with a pen included in the box. "
            "Twelve hours of battery on a normal day."
        ),
        "attributes": {
            "screen_size_in": 14.0,
            "resolution": "1920 x 1200",
            "touchscreen": True,
            "processor": "Intel Core Ultra 5",
            "graphics": "Integrated",
            "ram_gb": 16,
            "storage_gb": 512,
            "weight_kg": 1.35,
            "battery_life_hours": 12,
            "operating_system": "Windows 11 Home",
            "ports": ["USB-C", "USB-A", "HDMI", "3.5 mm jack"],
            "release_date": date(2023, 11, 2),
            "colour": "Navy",
        },
    },
    {
        "upc": "OGD-LT-006",
        "title": "Brightmoor Chromebook 11",
        "category": "Computers > Laptops",
        "price": "229.00",
        "stock": 30,
        "description": (
            "A small, tough Chromebook for homework and browsing. Rubber bumpers, a spill-proof "
            "keyboard and eleven hours of battery."
        ),
        "attributes": {
            "screen_size_in": 11.6,
            "resolution": "1366 x 768",
            "touchscreen": False,
            "processor": "Quad-core, 2.8 GHz",
            "graphics": "Integrated",
            "ram_gb": 4,
            "storage_gb": 64,
            "weight_kg": 1.1,
            "battery_life_hours": 11,
            "operating_system": "ChromeOS",
            "ports": ["USB-C", "USB-A", "SD card reader", "3.5 mm jack"],
            "release_date": date(2023, 1, 17),
            "colour": "Graphite",
        },
    },
    {
        "upc": "OGD-LT-007",
        "title": "Fenwick Studio 16 creator laptop",
        "category": "Computers > Laptops",
        "price": "2499.00",
        "stock": 4,
        "description": (
            "For photo and video work: a colour-calibrated 16-inch OLED panel, 64 GB of memory "
            "and 4 TB of fast storage. The SD card reader takes full-size cards."
        ),
        "attributes": {
            "screen_size_in": 16.0,
            "resolution": "3840 x 2400 OLED",
            "touchscreen": True,
            "processor": "Intel Core Ultra 9",
            "graphics": "Dedicated, 12 GB",
            "ram_gb": 64,
            "storage_gb": 4096,
            "weight_kg": 2.05,
            "battery_life_hours": 9,
            "operating_system": "Windows 11 Pro",
            "ports": ["Thunderbolt 4", "USB-A", "HDMI", "SD card reader", "3.5 mm jack"],
            "release_date": date(2024, 9, 10),
            "colour": "Silver",
        },
    },
    {
        "upc": "OGD-LT-008",
        "title": "Quillon Blade 14",
        "category": "Computers > Gaming laptops",
        "price": "1399.00",
        "stock": 7,
        "description": (
            "A gaming laptop you can carry every day: 14 inches, 1.7 kg, and still a dedicated "
            "graphics card. Runs warm under load."
        ),
        "attributes": {
            "screen_size_in": 14.0,
            "resolution": "2560 x 1600, 165 Hz",
            "touchscreen": False,
            "processor": "AMD Ryzen 7, 8 cores",
            "graphics": "Dedicated, 8 GB",
            "ram_gb": 16,
            "storage_gb": 1024,
            "weight_kg": 1.7,
            "battery_life_hours": 8,
            "operating_system": "Windows 11 Home",
            "ports": ["USB-C", "USB-A", "HDMI", "3.5 mm jack"],
            "release_date": date(2024, 2, 8),
            "colour": "Graphite",
        },
    },
    {
        "upc": "OGD-LT-009",
        "title": "Alder DevBook 14 with Ubuntu",
        "category": "Computers > Laptops",
        "price": "1199.00",
        "stock": 9,
        "description": (
            "Ships with Ubuntu preinstalled and every component supported out of the box. "
            "32 GB of memory for containers and virtual machines, and a matte 3:2 screen "
            "that shows more lines of code."
        ),
        "attributes": {
            "screen_size_in": 14.0,
            "resolution": "2256 x 1504",
            "touchscreen": False,
            "processor": "AMD Ryzen 7, 8 cores",
            "graphics": "Integrated",
            "ram_gb": 32,
            "storage_gb": 1024,
            "weight_kg": 1.3,
            "battery_life_hours": 11,
            "operating_system": "Ubuntu Linux",
            "ports": ["USB-C", "USB-A", "HDMI", "3.5 mm jack"],
            "release_date": date(2024, 5, 2),
            "colour": "Silver",
        },
    },
    {
        "upc": "OGD-LT-010",
        "title": "Brightmoor Student 15",
        "category": "Computers > Laptops",
        "price": "449.00",
        "stock": 28,
        "description": (
            "A big screen and a number pad for not much money. Fine for essays, spreadsheets "
            "and streaming; not meant for games."
        ),
        "attributes": {
            "screen_size_in": 15.6,
            "resolution": "1920 x 1080",
            "touchscreen": False,
            "processor": "Intel Core i3",
            "graphics": "Integrated",
            "ram_gb": 8,
            "storage_gb": 512,
            "weight_kg": 1.75,
            "battery_life_hours": 8,
            "operating_system": "Windows 11 Home",
            "ports": ["USB-C", "USB-A", "HDMI", "3.5 mm jack"],
            "release_date": date(2023, 7, 24),
            "colour": "Silver",
        },
    },
    {
        # Thin: title only.
        "upc": "OGD-LT-011",
        "title": "Fenwick Note 13 (refurbished)",
        "category": "Computers > Laptops",
        "price": "379.00",
        "stock": 3,
    },
    {
        "upc": "OGD-LT-012",
        "title": "Quillon Titan 18",
        "category": "Computers > Gaming laptops",
        "price": "2999.00",
        "stock": 2,
        "description": (
            "A desktop replacement with an 18-inch screen, 64 GB of memory and the fastest "
            "graphics we stock. It needs its own desk and its 330 W power brick."
        ),
        "attributes": {
            "screen_size_in": 18.0,
            "resolution": "2560 x 1600, 240 Hz",
            "touchscreen": False,
            "processor": "Intel Core i9, 24 cores",
            "graphics": "Dedicated, 16 GB",
            "ram_gb": 64,
            "storage_gb": 4096,
            "weight_kg": 3.1,
            "battery_life_hours": 4,
            "operating_system": "Windows 11 Pro",
            "ports": ["Thunderbolt 4", "USB-A", "HDMI", "Ethernet", "SD card reader"],
            "release_date": date(2024, 10, 1),
            "colour": "Black",
        },
    },
]


def _sizes(upc, title, price, sizes, stock):
    """Child variants of a shoe: one per UK size."""
    return [
        {
            "upc": f"{upc}-{size:0>2}",
            "title": f"{title}, UK {size}",
            "price": price,
            "stock": stock,
            "attributes": {"uk_size": size},
        }
        for size in sizes
    ]


RUNNING_SHOES = [
    {
        "upc": "OGD-RS-001",
        "title": "Stridewell Tempo 4 road running shoes",
        "category": "Sport > Running shoes > Road",
        "description": (
            "A lively everyday trainer that is happy on easy runs and quicker sessions alike. "
            "Balanced cushioning, an 8 mm drop and a breathable knit upper."
        ),
        "attributes": {
            "terrain": "Road",
            "cushioning": "Balanced",
            "drop_mm": 8.0,
            "stack_height_mm": 32.0,
            "weight_g": 245.0,
            "waterproof": False,
            "carbon_plate": False,
            "upper": "Engineered knit",
            "width": "Standard",
            "colour": "Navy",
        },
        "children": _sizes(
            "OGD-RS-001", "Stridewell Tempo 4", "120.00", ["7", "8", "9", "10", "11"], 6
        ),
    },
    {
        "upc": "OGD-RS-002",
        "title": "Fellrunner Ridge GTX waterproof trail shoes",
        "category": "Sport > Running shoes > Trail",
        "description": (
            "Waterproof trail shoes for boggy moorland and winter mud. Deep 5 mm lugs, a rock "
            "plate and a gusseted tongue that keeps grit out."
        ),
        "attributes": {
            "terrain": "Trail",
            "cushioning": "Balanced",
            "drop_mm": 6.0,
            "stack_height_mm": 30.0,
            "weight_g": 310.0,
            "lug_depth_mm": 5.0,
            "waterproof": True,
            "carbon_plate": False,
            "upper": "Ripstop mesh with waterproof membrane",
            "width": "Standard",
            "colour": "Forest green",
        },
        "children": _sizes("OGD-RS-002", "Fellrunner Ridge GTX", "145.00", ["6", "7", "8", "9"], 5),
    },
    {
        "upc": "OGD-RS-003",
        "title": "Pace Lab Velocity Carbon racing shoes",
        "category": "Sport > Running shoes > Road",
        "price": "220.00",
        "stock": 10,
        "description": (
            "A carbon-plated racer for 10 km to marathon. Springy, very light and very fast; "
            "the foam is soft, so keep it for race day and key sessions."
        ),
        "attributes": {
            "terrain": "Road",
            "cushioning": "Maximal",
            "drop_mm": 8.0,
            "stack_height_mm": 39.5,
            "weight_g": 198.0,
            "waterproof": False,
            "carbon_plate": True,
            "upper": "Monofilament mesh",
            "width": "Standard",
            "colour": "White",
        },
    },
    {
        "upc": "OGD-RS-004",
        "title": "Kinetic Hare Cloudstep Max",
        "category": "Sport > Running shoes > Road",
        "price": "155.00",
        "stock": 14,
        "description": (
            "Maximum cushioning for long, slow miles and recovery days. A wide base makes it "
            "feel stable despite the 40 mm of foam underfoot."
        ),
        "attributes": {
            "terrain": "Road",
            "cushioning": "Maximal",
            "drop_mm": 5.0,
            "stack_height_mm": 40.0,
            "weight_g": 290.0,
            "waterproof": False,
            "carbon_plate": False,
            "upper": "Engineered mesh",
            "width": "Wide",
            "colour": "Sand",
        },
    },
    {
        "upc": "OGD-RS-005",
        "title": "Stridewell Daily 12",
        "category": "Sport > Running shoes > Road",
        "price": "95.00",
        "stock": 20,
        "description": (
            "A dependable, durable trainer for beginners and high-mileage runners. Nothing "
            "flashy, just a comfortable ride that lasts for hundreds of miles."
        ),
        "attributes": {
            "terrain": "Road",
            "cushioning": "Balanced",
            "drop_mm": 10.0,
            "stack_height_mm": 33.0,
            "weight_g": 280.0,
            "waterproof": False,
            "carbon_plate": False,
            "upper": "Mesh",
            "width": "Standard",
            "colour": "Black",
        },
    },
    {
        "upc": "OGD-RS-006",
        "title": "Fellrunner Scree Lite",
        "category": "Sport > Running shoes > Trail",
        "price": "110.00",
        "stock": 11,
        "description": (
            "A low, nimble trail shoe for rocky paths and fell races. Grippy 4.5 mm lugs and "
            "a close fit that lets you feel the ground."
        ),
        "attributes": {
            "terrain": "Trail",
            "cushioning": "Minimal",
            "drop_mm": 4.0,
            "stack_height_mm": 22.0,
            "weight_g": 260.0,
            "lug_depth_mm": 4.5,
            "waterproof": False,
            "carbon_plate": False,
            "upper": "Abrasion-resistant mesh",
            "width": "Standard",
            "colour": "Red",
        },
    },
    {
        "upc": "OGD-RS-007",
        "title": "Pace Lab Barefoot Zero",
        "category": "Sport > Running shoes > Road",
        "price": "89.00",
        "stock": 9,
        "description": (
            "Zero drop, 12 mm of rubber and a roomy toe box. Build up slowly if you are used "
            "to cushioned shoes."
        ),
        "attributes": {
            "terrain": "Road",
            "cushioning": "Minimal",
            "drop_mm": 0.0,
            "stack_height_mm": 12.0,
            "weight_g": 180.0,
            "waterproof": False,
            "carbon_plate": False,
            "upper": "Stretch mesh",
            "width": "Wide",
            "colour": "Graphite",
        },
    },
    {
        "upc": "OGD-RS-008",
        "title": "Kinetic Hare XC track spikes",
        "category": "Sport > Running shoes > Track",
        "price": "70.00",
        "stock": 16,
        "description": (
            "Light spikes for cross-country and the track, with removable 6 mm pins and a "
            "spare set in the bag."
        ),
        "attributes": {
            "terrain": "Track",
            "cushioning": "Minimal",
            "drop_mm": 4.0,
            "stack_height_mm": 15.0,
            "weight_g": 165.0,
            "waterproof": False,
            "carbon_plate": False,
            "upper": "Synthetic mesh",
            "width": "Standard",
            "colour": "Red",
        },
    },
    {
        "upc": "OGD-RS-009",
        "title": "Stridewell Stability 7",
        "category": "Sport > Running shoes > Road",
        "price": "115.00",
        "stock": 13,
        "description": (
            "Gentle support for runners whose ankles roll inwards, without the stiff, heavy "
            "feel of older stability shoes. Also available in a wide fit."
        ),
        "attributes": {
            "terrain": "Road",
            "cushioning": "Balanced",
            "drop_mm": 10.0,
            "stack_height_mm": 35.0,
            "weight_g": 300.0,
            "waterproof": False,
            "carbon_plate": False,
            "upper": "Engineered mesh",
            "width": "Wide",
            "colour": "Navy",
        },
    },
    {
        # Thin: title only.
        "upc": "OGD-RS-010",
        "title": "Pace Lab trainer, last season's colour",
        "category": "Sport > Running shoes > Road",
        "price": "49.00",
        "stock": 7,
    },
    {
        "upc": "OGD-RS-011",
        "title": "Fellrunner Ultra Trail 100",
        "category": "Sport > Running shoes > Trail",
        "price": "165.00",
        "stock": 8,
        "description": (
            "Made for ultramarathons: plenty of cushioning for the later miles, a roomy fit "
            "for swollen feet and gaiter attachment points."
        ),
        "attributes": {
            "terrain": "Trail",
            "cushioning": "Maximal",
            "drop_mm": 6.0,
            "stack_height_mm": 36.0,
            "weight_g": 320.0,
            "lug_depth_mm": 4.0,
            "waterproof": False,
            "carbon_plate": False,
            "upper": "Double-layer mesh",
            "width": "Wide",
            "colour": "Sand",
        },
    },
    {
        "upc": "OGD-RS-012",
        "title": "Kinetic Hare Winter Run GTX",
        "category": "Sport > Running shoes > Road",
        "price": "130.00",
        "stock": 10,
        "description": (
            "A waterproof road shoe with reflective details and a sticky rubber outsole for "
            "wet pavements and dark winter mornings."
        ),
        "attributes": {
            "terrain": "Road",
            "cushioning": "Balanced",
            "drop_mm": 8.0,
            "stack_height_mm": 31.0,
            "weight_g": 295.0,
            "waterproof": True,
            "carbon_plate": False,
            "upper": "Mesh with waterproof membrane",
            "width": "Standard",
            "colour": "Black",
        },
    },
]

COFFEE_MACHINES = [
    {
        "upc": "OGD-CM-001",
        "title": "Caffè Ottone Classico espresso machine",
        "category": "Kitchen > Coffee machines",
        "price": "299.00",
        "stock": 12,
        "description": (
            "A compact single-boiler espresso machine with a proper steam wand. There is a "
            "learning curve, and then it makes very good coffee."
        ),
        "attributes": {
            "machine_type": "Espresso",
            "pressure_bar": 15.0,
            "water_tank_l": 1.8,
            "power_w": 1350,
            "cups_per_brew": 2,
            "milk_frother": True,
            "built_in_grinder": False,
            "programmable": False,
            "drinks": ["Espresso", "Lungo", "Americano", "Cappuccino", "Latte", "Flat white"],
            "warranty_years": 2,
            "colour": "Silver",
        },
    },
    {
        "upc": "OGD-CM-002",
        "title": "Brewhaus Barista Touch BTC-8 bean-to-cup",
        "category": "Kitchen > Coffee machines",
        "price": "649.00",
        "stock": 6,
        "description": (
            "Grinds, tamps and brews at the touch of a button, and textures milk automatically. "
            "Eight drinks on the menu and two user profiles."
        ),
        "attributes": {
            "machine_type": "Bean-to-cup",
            "pressure_bar": 19.0,
            "water_tank_l": 1.7,
            "power_w": 1450,
            "cups_per_brew": 2,
            "milk_frother": True,
            "built_in_grinder": True,
            "programmable": True,
            "drinks": [
                "Espresso",
                "Lungo",
                "Americano",
                "Cappuccino",
                "Latte",
                "Flat white",
                "Hot water",
            ],
            "warranty_years": 3,
            "colour": "Black",
        },
    },
    {
        "upc": "OGD-CM-003",
        "title": "Lumière Kitchen Filtre 10 filter coffee maker",
        "category": "Kitchen > Coffee machines",
        "price": "69.00",
        "stock": 25,
        "description": (
            "Set the timer the night before and wake up to ten cups of filter coffee. The "
            "thermal jug keeps it hot for hours without stewing."
        ),
        "attributes": {
            "machine_type": "Filter",
            "water_tank_l": 1.25,
            "power_w": 1000,
            "cups_per_brew": 10,
            "milk_frother": False,
            "built_in_grinder": False,
            "programmable": True,
            "drinks": ["Filter coffee"],
            "warranty_years": 2,
            "colour": "Black",
        },
    },
    {
        "upc": "OGD-CM-004",
        "title": "Morrow & Pike Pod One",
        "category": "Kitchen > Coffee machines",
        "price": "79.00",
        "stock": 40,
        "description": (
            "A small pod machine that heats up in 25 seconds. Takes the common capsule size, "
            "so you are not tied to one brand of coffee."
        ),
        "attributes": {
            "machine_type": "Pod",
            "pressure_bar": 19.0,
            "water_tank_l": 0.8,
            "power_w": 1260,
            "cups_per_brew": 1,
            "milk_frother": False,
            "built_in_grinder": False,
            "programmable": False,
            "drinks": ["Espresso", "Lungo"],
            "warranty_years": 2,
            "colour": "Red",
        },
    },
    {
        "upc": "OGD-CM-005",
        "title": "Caffè Ottone Moka 6 stovetop coffee maker",
        "category": "Kitchen > Coffee machines",
        "price": "34.00",
        "stock": 50,
        "description": (
            "The classic aluminium stovetop pot, six small cups at a time. Works on gas and "
            "electric hobs; for induction you will need an adapter plate."
        ),
        "attributes": {
            "machine_type": "Stovetop",
            "water_tank_l": 0.3,
            "cups_per_brew": 6,
            "milk_frother": False,
            "built_in_grinder": False,
            "programmable": False,
            "drinks": ["Espresso"],
            "warranty_years": 1,
            "colour": "Silver",
        },
    },
    {
        "upc": "OGD-CM-006",
        "title": "Brewhaus Compact Bean",
        "category": "Kitchen > Coffee machines",
        "price": "379.00",
        "stock": 10,
        "description": (
            "Bean-to-cup convenience for people who drink their coffee black: a ceramic "
            "grinder, one-touch espresso and americano, and a footprint narrow enough for a "
            "small kitchen. No milk system."
        ),
        "attributes": {
            "machine_type": "Bean-to-cup",
            "pressure_bar": 15.0,
            "water_tank_l": 1.2,
            "power_w": 1350,
            "cups_per_brew": 1,
            "milk_frother": False,
            "built_in_grinder": True,
            "programmable": False,
            "drinks": ["Espresso", "Lungo", "Americano", "Hot water"],
            "warranty_years": 2,
            "colour": "Black",
        },
    },
    {
        "upc": "OGD-CM-007",
        "title": "Caffè Ottone Doppio dual-boiler espresso machine",
        "category": "Kitchen > Coffee machines",
        "price": "1249.00",
        "stock": 3,
        "description": (
            "Two boilers, so you can pull a shot and steam milk at the same time. PID "
            "temperature control, a pressure gauge and a 2.5 litre tank for busy mornings."
        ),
        "attributes": {
            "machine_type": "Espresso",
            "pressure_bar": 9.0,
            "water_tank_l": 2.5,
            "power_w": 2000,
            "cups_per_brew": 2,
            "milk_frother": True,
            "built_in_grinder": False,
            "programmable": True,
            "drinks": ["Espresso", "Americano", "Cappuccino", "Latte", "Flat white", "Hot water"],
            "warranty_years": 3,
            "colour": "Silver",
        },
    },
    {
        # Thin: title only.
        "upc": "OGD-CM-008",
        "title": "Lumière Kitchen pour-over set",
        "category": "Kitchen > Coffee machines",
        "price": "45.00",
        "stock": 18,
    },
    {
        "upc": "OGD-CM-009",
        "title": "Morrow & Pike cold brew tower",
        "category": "Kitchen > Coffee machines",
        "price": "89.00",
        "stock": 7,
        "description": (
            "A slow-drip glass tower that makes a litre of smooth, low-acid cold brew "
            "overnight. No electricity involved, just patience."
        ),
        "attributes": {
            "machine_type": "Cold brew",
            "water_tank_l": 1.0,
            "cups_per_brew": 8,
            "milk_frother": False,
            "built_in_grinder": False,
            "programmable": False,
            "drinks": ["Cold brew"],
            "warranty_years": 1,
            "colour": "Black",
        },
    },
    {
        "upc": "OGD-CM-010",
        "title": "Brewhaus Office Pro 2",
        "category": "Kitchen > Coffee machines",
        "price": "1499.00",
        "stock": 2,
        "description": (
            "A bean-to-cup machine for an office of thirty: two bean hoppers, a 4 litre tank "
            "and a milk system that rinses itself after every drink."
        ),
        "attributes": {
            "machine_type": "Bean-to-cup",
            "pressure_bar": 15.0,
            "water_tank_l": 4.0,
            "power_w": 2300,
            "cups_per_brew": 2,
            "milk_frother": True,
            "built_in_grinder": True,
            "programmable": True,
            "drinks": [
                "Espresso",
                "Lungo",
                "Americano",
                "Cappuccino",
                "Latte",
                "Flat white",
                "Hot water",
            ],
            "warranty_years": 3,
            "colour": "Graphite",
        },
    },
    {
        "upc": "OGD-CM-011",
        "title": "Morrow & Pike Pod Duo with milk frother",
        "category": "Kitchen > Coffee machines",
        "price": "119.00",
        "stock": 15,
        "description": (
            "The Pod One with a separate milk frother that makes hot or cold foam. A quick way "
            "to a passable cappuccino."
        ),
        "attributes": {
            "machine_type": "Pod",
            "pressure_bar": 19.0,
            "water_tank_l": 1.0,
            "power_w": 1400,
            "cups_per_brew": 1,
            "milk_frother": True,
            "built_in_grinder": False,
            "programmable": False,
            "drinks": ["Espresso", "Lungo", "Cappuccino", "Latte"],
            "warranty_years": 2,
            "colour": "White",
        },
    },
]

BOOKS = [
    {
        "upc": "OGD-BK-001",
        "title": "The Lantern Keeper of Saltmarsh",
        "category": "Books > Fiction",
        "price": "9.99",
        "stock": 40,
        "description": (
            "A widowed lighthouse keeper takes in a girl washed ashore in a storm, and a quiet "
            "Norfolk village has to decide what it owes to strangers. Warm, slow and moving."
        ),
        "attributes": {
            "author": "Edith Carrow",
            "publisher": "Greyfriars Press",
            "pages": 384,
            "publication_date": date(2021, 9, 16),
            "book_format": "Paperback",
            "language": "English",
            "genres": ["Literary fiction", "Historical fiction"],
            "signed_copy": False,
        },
    },
    {
        "upc": "OGD-BK-002",
        "title": "A Quiet Murder in Lowgate",
        "category": "Books > Fiction",
        "price": "8.99",
        "stock": 35,
        "description": (
            "Detective Inspector Ruth Maddox returns to her home town to investigate the death "
            "of a bookseller, and finds that everyone she grew up with has something to hide."
        ),
        "attributes": {
            "author": "Martin Ashby",
            "publisher": "Harrow & Vale",
            "pages": 312,
            "publication_date": date(2022, 3, 3),
            "book_format": "Paperback",
            "language": "English",
            "genres": ["Crime"],
            "signed_copy": False,
        },
    },
    {
        "upc": "OGD-BK-003",
        "title": "Orbit of Small Hours",
        "category": "Books > Fiction",
        "price": "18.99",
        "stock": 15,
        "description": (
            "On a mining station at the edge of the solar system, the night-shift crew start "
            "receiving messages from a ship that left Earth a century ago. Clever, tense "
            "science fiction."
        ),
        "attributes": {
            "author": "Nadia Okonjo",
            "publisher": "Farthing Books",
            "pages": 456,
            "publication_date": date(2023, 5, 11),
            "book_format": "Hardback",
            "language": "English",
            "genres": ["Science fiction"],
            "signed_copy": False,
        },
    },
    {
        "upc": "OGD-BK-004",
        "title": "The Glass Orchard",
        "category": "Books > Fiction",
        "price": "10.99",
        "stock": 22,
        "description": (
            "Twin sisters inherit an orchard whose apples grant a single true memory to "
            "whoever eats them. The first book of a fantasy trilogy."
        ),
        "attributes": {
            "author": "Isobel Tremayne",
            "publisher": "Farthing Books",
            "pages": 528,
            "publication_date": date(2020, 10, 1),
            "book_format": "Paperback",
            "language": "English",
            "genres": ["Fantasy"],
            "signed_copy": False,
        },
    },
    {
        "upc": "OGD-BK-005",
        "title": "Die Uhrmacherin",
        "category": "Books > Fiction",
        "price": "14.50",
        "stock": 6,
        "description": (
            "A German-language novel about a watchmaker's daughter in 1920s Pforzheim who "
            "takes over the family workshop. Untranslated; for readers of German."
        ),
        "attributes": {
            "author": "Klara Wendt",
            "publisher": "Lindenhof Verlag",
            "pages": 296,
            "publication_date": date(2019, 2, 22),
            "book_format": "Paperback",
            "language": "German",
            "genres": ["Historical fiction", "Literary fiction"],
            "signed_copy": False,
        },
    },
    {
        # Thin: title only.
        "upc": "OGD-BK-006",
        "title": "Tides of Marrow Bay",
        "category": "Books > Fiction",
        "price": "7.99",
        "stock": 12,
    },
    {
        "upc": "OGD-BK-007",
        "title": "Seven Winters in Kirkwall",
        "category": "Books > Fiction",
        "price": "9.49",
        "stock": 20,
        "description": (
            "A family saga set in Orkney between the wars, told over seven hard winters. Rich "
            "in atmosphere; the plot takes its time."
        ),
        "attributes": {
            "author": "Fiona Sinclair-Rae",
            "publisher": "Greyfriars Press",
            "pages": 352,
            "publication_date": date(2018, 11, 8),
            "book_format": "Paperback",
            "language": "English",
            "genres": ["Historical fiction"],
            "signed_copy": False,
        },
    },
    {
        "upc": "OGD-BK-008",
        "title": "The Cartographer's Daughter (signed first edition)",
        "category": "Books > Fiction",
        "price": "25.00",
        "stock": 5,
        "description": (
            "A signed hardback first edition. A mapmaker's daughter sails to chart an island "
            "that appears on only one map in the world, and finds it inhabited."
        ),
        "attributes": {
            "author": "Thomas Levering",
            "publisher": "Harrow & Vale",
            "pages": 416,
            "publication_date": date(2024, 4, 18),
            "book_format": "Hardback",
            "language": "English",
            "genres": ["Literary fiction", "Historical fiction"],
            "signed_copy": True,
        },
    },
    {
        "upc": "OGD-BK-101",
        "title": "Running Slower, Running Longer",
        "category": "Books > Non-fiction",
        "price": "12.99",
        "stock": 18,
        "description": (
            "A sports physiologist explains why most of your running should feel easy, and "
            "how to build up to a marathon without getting injured. Includes training plans."
        ),
        "attributes": {
            "author": "Dr Hannah Price",
            "publisher": "Northgate Publishing",
            "pages": 272,
            "publication_date": date(2022, 1, 6),
            "book_format": "Paperback",
            "language": "English",
            "genres": ["Sport", "Popular science"],
            "signed_copy": False,
            "contents": (
                "<ol><li>Why easy is hard</li><li>Heart rate and effort</li>"
                "<li>Shoes, surfaces and injuries</li><li>Sixteen-week plans</li></ol>"
            ),
        },
    },
    {
        "upc": "OGD-BK-102",
        "title": "The Home Barista",
        "category": "Books > Non-fiction",
        "price": "20.00",
        "stock": 14,
        "description": (
            "Everything you need to make café-quality espresso in your own kitchen: choosing "
            "beans, dialling in a grinder, steaming milk and cleaning your machine."
        ),
        "attributes": {
            "author": "Luca Bertolini",
            "publisher": "Copperpot Books",
            "pages": 224,
            "publication_date": date(2023, 8, 31),
            "book_format": "Hardback",
            "language": "English",
            "genres": ["Food and drink"],
            "signed_copy": False,
            "contents": (
                "<ol><li>Beans and roasts</li><li>Grinding</li><li>The perfect shot</li>"
                "<li>Milk</li><li>Looking after your machine</li></ol>"
            ),
        },
    },
    {
        "upc": "OGD-BK-103",
        "title": "Quiet Minds: How Noise Shapes Us",
        "category": "Books > Non-fiction",
        "price": "16.99",
        "stock": 16,
        "description": (
            "An acoustician looks at what constant noise does to sleep, concentration and "
            "health, and at the cities that are learning to be quieter."
        ),
        "attributes": {
            "author": "Samuel Achterberg",
            "publisher": "Northgate Publishing",
            "pages": 304,
            "publication_date": date(2021, 4, 15),
            "book_format": "Hardback",
            "language": "English",
            "genres": ["Popular science"],
            "signed_copy": False,
        },
    },
    {
        "upc": "OGD-BK-104",
        "title": "Small Machines That Changed Everything",
        "category": "Books > Non-fiction",
        "price": "11.99",
        "stock": 19,
        "description": (
            "A lively history of twelve everyday devices, from the pocket watch to the "
            "portable cassette player, and the people who built them."
        ),
        "attributes": {
            "author": "Priyanka Desai",
            "publisher": "Copperpot Books",
            "pages": 336,
            "publication_date": date(2020, 6, 4),
            "book_format": "Paperback",
            "language": "English",
            "genres": ["History"],
            "signed_copy": False,
        },
    },
    {
        "upc": "OGD-BK-105",
        "title": "Python for Curious Adults",
        "category": "Books > Non-fiction",
        "price": "24.99",
        "stock": 11,
        "description": (
            "A patient introduction to programming for people who never thought they would "
            "write code. Every chapter ends with a small, useful project."
        ),
        "attributes": {
            "author": "Gareth Lloyd-Jones",
            "publisher": "Bracket Press",
            "pages": 410,
            "publication_date": date(2024, 1, 25),
            "book_format": "Paperback",
            "language": "English",
            "genres": ["Computing"],
            "signed_copy": False,
        },
    },
    {
        # Thin: title only.
        "upc": "OGD-BK-106",
        "title": "Walking the Pennine Way",
        "category": "Books > Non-fiction",
        "price": "14.99",
        "stock": 9,
    },
    {
        "upc": "OGD-BK-107",
        "title": "Le Goût du Café",
        "category": "Books > Non-fiction",
        "price": "19.50",
        "stock": 4,
        "description": (
            "A French-language tour of coffee-growing regions and the farmers who work them, "
            "with tasting notes and photographs."
        ),
        "attributes": {
            "author": "Hélène Marchetti",
            "publisher": "Éditions du Sillon",
            "pages": 192,
            "publication_date": date(2022, 10, 13),
            "book_format": "Hardback",
            "language": "French",
            "genres": ["Food and drink", "Travel"],
            "signed_copy": False,
        },
    },
]

SMART_WATCHES = [
    {
        "upc": "OGD-SW-001",
        "title": "Pace Lab Stride GPS 2 running watch",
        "category": "Sport > Wearables",
        "price": "199.00",
        "stock": 15,
        "description": (
            "A running watch that does the basics brilliantly: accurate GPS, wrist heart rate, "
            "interval workouts and two weeks between charges."
        ),
        "attributes": {
            "battery_life_days": 14,
            "display_size_in": 1.2,
            "gps": True,
            "heart_rate": True,
            "water_resistance_m": 50,
            "weight_g": 39.0,
            "compatible_with": ["Android", "iOS"],
            "colour": "Black",
        },
    },
    {
        "upc": "OGD-SW-002",
        "title": "Helix Band 5 fitness tracker",
        "category": "Sport > Wearables",
        "price": "49.00",
        "stock": 45,
        "description": (
            "A slim band that counts steps, tracks sleep and nudges you to move. It borrows "
            "your phone's GPS for runs."
        ),
        "attributes": {
            "battery_life_days": 10,
            "display_size_in": 0.9,
            "gps": False,
            "heart_rate": True,
            "water_resistance_m": 50,
            "weight_g": 22.0,
            "compatible_with": ["Android", "iOS"],
            "colour": "Graphite",
        },
    },
    {
        "upc": "OGD-SW-003",
        "title": "Pace Lab Summit Solar",
        "category": "Sport > Wearables",
        "price": "449.00",
        "stock": 5,
        "description": (
            "An expedition watch with a solar-charging lens, offline maps and a month of "
            "battery in smartwatch mode. Sapphire glass and a titanium case."
        ),
        "attributes": {
            "battery_life_days": 30,
            "display_size_in": 1.4,
            "gps": True,
            "heart_rate": True,
            "water_resistance_m": 100,
            "weight_g": 62.0,
            "compatible_with": ["Android", "iOS"],
            "colour": "Graphite",
        },
    },
    {
        "upc": "OGD-SW-004",
        "title": "Helix Watch S smartwatch",
        "category": "Sport > Wearables",
        "price": "279.00",
        "stock": 12,
        "description": (
            "A bright AMOLED smartwatch with contactless payments, notifications and GPS. "
            "Lovely to use, but you will be charging it every other night."
        ),
        "attributes": {
            "battery_life_days": 2,
            "display_size_in": 1.5,
            "gps": True,
            "heart_rate": True,
            "water_resistance_m": 50,
            "weight_g": 44.0,
            "compatible_with": ["Android"],
            "colour": "Silver",
        },
    },
    {
        # Thin: title only.
        "upc": "OGD-SW-005",
        "title": "Helix Band 4 (refurbished)",
        "category": "Sport > Wearables",
        "price": "29.00",
        "stock": 10,
    },
    {
        "upc": "OGD-SW-006",
        "title": "Kinetic Hare kids' activity tracker",
        "category": "Sport > Wearables",
        "price": "39.00",
        "stock": 20,
        "description": (
            "A chunky, splash-proof tracker for children aged six and up, with step goals, "
            "a silent alarm and no internet access."
        ),
        "attributes": {
            "battery_life_days": 7,
            "display_size_in": 0.8,
            "gps": False,
            "heart_rate": False,
            "water_resistance_m": 30,
            "weight_g": 25.0,
            "compatible_with": ["Android", "iOS"],
            "colour": "Red",
        },
    },
]

#: Each product class's products, keyed by the class slug.
PRODUCTS_BY_CLASS = {
    "headphones": HEADPHONES,
    "laptops": LAPTOPS,
    "running-shoes": RUNNING_SHOES,
    "coffee-machines": COFFEE_MACHINES,
    "books": BOOKS,
    "smart-watches": SMART_WATCHES,
}

# --------------------------------------------------------------------------------------------
# Demo shoppers and what they did in the shop
# --------------------------------------------------------------------------------------------

#: The password every demo shopper can log in with (the staff login is in the loader).
SHOPPER_PASSWORD = "oscar-gpt-shopper"

# ``views``: products the shopper looked at, oldest first. ``basket``: (UPC, quantity) lines
# of the shopper's open basket. ``orders``: placed orders, each with a fixed number so that
# loading twice never places an order twice.
SHOPPERS = [
    {
        "username": "amira.haddad",
        "email": "amira.haddad@example.com",
        "first_name": "Amira",
        "last_name": "Haddad",
        "address": {
            "line1": "14 Larkspur Road",
            "line4": "Bristol",
            "postcode": "BS6 7QT",
            "phone_number": "+44 117 496 0123",
        },
        "views": [
            "OGD-HP-006",
            "OGD-HP-001",
            "OGD-HP-014",
            "OGD-HP-015",
            "OGD-HP-002",
            "OGD-BK-103",
        ],
        "basket": [("OGD-HP-002", 1)],
        "orders": [
            {
                "number": "DEMO-10001",
                "lines": [("OGD-BK-103", 1), ("OGD-HP-004", 1)],
                "days_ago": 30,
                "status": "Complete",
            },
        ],
    },
    {
        "username": "tom.whitfield",
        "email": "tom.whitfield@example.com",
        "first_name": "Tom",
        "last_name": "Whitfield",
        "address": {
            "line1": "3 Millbrook Terrace",
            "line4": "Sheffield",
            "postcode": "S11 8YA",
            "phone_number": "+44 114 496 0456",
        },
        "views": [
            "OGD-RS-004",
            "OGD-RS-003",
            "OGD-RS-001",
            "OGD-SW-003",
            "OGD-SW-001",
            "OGD-BK-101",
            "OGD-RS-006",
        ],
        "basket": [("OGD-RS-006", 1)],
        "orders": [
            {
                "number": "DEMO-10002",
                "lines": [("OGD-RS-001-09", 1), ("OGD-BK-101", 1)],
                "days_ago": 45,
                "status": "Complete",
            },
            {
                "number": "DEMO-10003",
                "lines": [("OGD-SW-001", 1), ("OGD-HP-008", 1)],
                "days_ago": 5,
                "status": "Being processed",
            },
        ],
    },
    {
        "username": "priya.raman",
        "email": "priya.raman@example.com",
        "first_name": "Priya",
        "last_name": "Raman",
        "address": {
            "line1": "Flat 2, 87 Wellington Street",
            "line4": "Leeds",
            "postcode": "LS1 4JL",
            "phone_number": "+44 113 496 0789",
        },
        "views": ["OGD-CM-001", "OGD-CM-002", "OGD-CM-006", "OGD-CM-010", "OGD-BK-102"],
        "basket": [],
        "orders": [
            {
                "number": "DEMO-10004",
                "lines": [("OGD-CM-006", 1), ("OGD-BK-102", 1)],
                "days_ago": 12,
                "status": "Complete",
            },
        ],
    },
    {
        "username": "jonas.becker",
        "email": "jonas.becker@example.com",
        "first_name": "Jonas",
        "last_name": "Becker",
        "address": {
            "line1": "22 Canal Wharf",
            "line4": "Manchester",
            "postcode": "M4 6EQ",
            "phone_number": "+44 161 496 0321",
        },
        "views": ["OGD-LT-001", "OGD-LT-005", "OGD-LT-009", "OGD-LT-008", "OGD-HP-003"],
        "basket": [("OGD-LT-009", 1), ("OGD-HP-010", 1)],
        "orders": [],
    },
    {
        "username": "grace.oconnell",
        "email": "grace.oconnell@example.com",
        "first_name": "Grace",
        "last_name": "O'Connell",
        "address": {
            "line1": "The Old Forge, Church Lane",
            "line4": "Ludlow",
            "postcode": "SY8 1AP",
            "phone_number": "+44 1584 496 012",
        },
        "views": ["OGD-BK-001", "OGD-BK-002", "OGD-BK-007", "OGD-BK-004", "OGD-BK-008"],
        "basket": [("OGD-BK-008", 1)],
        "orders": [
            {
                "number": "DEMO-10005",
                "lines": [("OGD-BK-001", 1), ("OGD-BK-002", 1), ("OGD-BK-007", 2)],
                "days_ago": 60,
                "status": "Complete",
            },
        ],
    },
    {
        "username": "mateo.silva",
        "email": "mateo.silva@example.com",
        "first_name": "Mateo",
        "last_name": "Silva",
        "address": {
            "line1": "51 Harbour View",
            "line4": "Cardiff",
            "postcode": "CF10 5BZ",
            "phone_number": "+44 29 2049 6654",
        },
        "views": ["OGD-LT-008", "OGD-LT-004", "OGD-LT-012", "OGD-HP-011", "OGD-HP-012"],
        "basket": [("OGD-LT-004", 1)],
        "orders": [
            {
                "number": "DEMO-10006",
                "lines": [("OGD-HP-011", 1), ("OGD-HP-012", 1)],
                "days_ago": 3,
                "status": "Pending",
            },
        ],
    },
    {
        # A brand-new shopper: no history at all (the cold-start case for recommendations).
        "username": "lucy.fairbairn",
        "email": "lucy.fairbairn@example.com",
        "first_name": "Lucy",
        "last_name": "Fairbairn",
        "address": {
            "line1": "9 Rowan Close",
            "line4": "Edinburgh",
            "postcode": "EH10 4RT",
            "phone_number": "+44 131 496 0987",
        },
        "views": [],
        "basket": [],
        "orders": [],
    },
]

# --------------------------------------------------------------------------------------------
# Reviews
# --------------------------------------------------------------------------------------------

APPROVED = "approved"
PENDING = "pending"
REJECTED = "rejected"

# Keyed by ``code`` (ProductReview.code is unique), one review per shopper and product.
REVIEWS = [
    {
        "code": "demo-review-01",
        "upc": "OGD-HP-002",
        "user": "amira.haddad",
        "score": 5,
        "title": "The battery just keeps going",
        "body": (
            "I charged them before a trip to Singapore and they were still on 30% when I got "
            "home. Noise cancelling is very good on planes, slightly less so with voices."
        ),
        "status": APPROVED,
    },
    {
        "code": "demo-review-02",
        "upc": "OGD-HP-001",
        "user": "amira.haddad",
        "score": 4,
        "title": "Superb noise cancelling, a bit tight",
        "body": (
            "The quietest headphones I tried in the shop. They clamp quite firmly for the "
            "first couple of weeks, then ease off."
        ),
        "status": APPROVED,
    },
    {
        "code": "demo-review-03",
        "upc": "OGD-BK-103",
        "user": "amira.haddad",
        "score": 4,
        "title": "Made me rethink my commute",
        "body": "Readable and well argued. The chapter on sleep was worth the price alone.",
        "status": APPROVED,
    },
    {
        "code": "demo-review-04",
        "upc": "OGD-RS-001",
        "user": "tom.whitfield",
        "score": 5,
        "title": "My go-to trainer",
        "body": (
            "Third pair now. Comfortable from the first run, good for tempo sessions and "
            "they last about 500 miles for me. Size 9 fits true to size."
        ),
        "status": APPROVED,
    },
    {
        "code": "demo-review-05",
        "upc": "OGD-SW-001",
        "user": "tom.whitfield",
        "score": 4,
        "title": "Accurate GPS, fiddly menus",
        "body": (
            "Tracks my park run within a few metres and the battery easily lasts two weeks. "
            "The menus took some getting used to."
        ),
        "status": APPROVED,
    },
    {
        "code": "demo-review-06",
        "upc": "OGD-RS-003",
        "user": "tom.whitfield",
        "score": 3,
        "title": "Fast, but wore out quickly",
        "body": (
            "Took two minutes off my half marathon. The outsole was bald after 150 miles, so "
            "expensive per mile."
        ),
        "status": APPROVED,
    },
    {
        "code": "demo-review-07",
        "upc": "OGD-HP-008",
        "user": "tom.whitfield",
        "score": 4,
        "title": "They don't fall out",
        "body": "Finally earbuds that stay in on hill repeats. Sound is fine for podcasts.",
        "status": APPROVED,
    },
    {
        "code": "demo-review-08",
        "upc": "OGD-CM-006",
        "user": "priya.raman",
        "score": 4,
        "title": "Great for black coffee",
        "body": (
            "Fits under my kitchen cupboards and the espresso is much better than pods. No "
            "milk wand, so check that before you buy if you like lattes."
        ),
        "status": APPROVED,
    },
    {
        "code": "demo-review-09",
        "upc": "OGD-BK-102",
        "user": "priya.raman",
        "score": 5,
        "title": "Clear and practical",
        "body": "The section on dialling in the grinder saved me weeks of bad shots.",
        "status": APPROVED,
    },
    {
        "code": "demo-review-10",
        "upc": "OGD-CM-001",
        "user": "priya.raman",
        "score": 3,
        "title": "Good coffee, slow steam",
        "body": (
            "The espresso is lovely once you get the grind right, but steaming milk for two "
            "drinks takes a while on the single boiler."
        ),
        "status": APPROVED,
    },
    {
        "code": "demo-review-11",
        "upc": "OGD-LT-009",
        "user": "jonas.becker",
        "score": 5,
        "title": "Linux laptop that just works",
        "body": (
            "Suspend, Wi-Fi, fingerprint reader and the external monitor all worked on day "
            "one. The 32 GB of RAM makes running a few containers painless."
        ),
        "status": APPROVED,
    },
    {
        "code": "demo-review-12",
        "upc": "OGD-HP-003",
        "user": "jonas.becker",
        "score": 4,
        "title": "Honest sound",
        "body": "Flat and detailed, great for mixing. The cable is a bit short for my desk.",
        "status": APPROVED,
    },
    {
        "code": "demo-review-13",
        "upc": "OGD-BK-001",
        "user": "grace.oconnell",
        "score": 5,
        "title": "Beautiful",
        "body": "I read it in two evenings and cried at the end. Already lent it to my sister.",
        "status": APPROVED,
    },
    {
        "code": "demo-review-14",
        "upc": "OGD-BK-002",
        "user": "grace.oconnell",
        "score": 4,
        "title": "Proper whodunnit",
        "body": "Didn't guess the killer. Maddox is a great lead and I hope there is a sequel.",
        "status": APPROVED,
    },
    {
        "code": "demo-review-15",
        "upc": "OGD-BK-007",
        "user": "grace.oconnell",
        "score": 2,
        "title": "Lovely setting, very slow",
        "body": (
            "The descriptions of Orkney are wonderful but very little happens for the first "
            "two hundred pages."
        ),
        "status": APPROVED,
    },
    {
        "code": "demo-review-16",
        "upc": "OGD-HP-011",
        "user": "mateo.silva",
        "score": 4,
        "title": "No lag, clear mic",
        "body": (
            "The dongle is genuinely lag-free and my friends say the mic is clear. Gets a "
            "bit warm after a few hours."
        ),
        "status": APPROVED,
    },
    {
        "code": "demo-review-17",
        "upc": "OGD-LT-004",
        "user": "mateo.silva",
        "score": 5,
        "title": "A beast",
        "body": "Runs everything I play on high settings. Loud fans, but I wear a headset anyway.",
        "status": APPROVED,
    },
    {
        "code": "demo-review-18",
        "upc": "OGD-LT-005",
        "user": "jonas.becker",
        "score": 3,
        "title": "Nice pen, average battery",
        "body": (
            "The tablet mode is handy for reading papers. Battery was closer to 8 hours for me."
        ),
        "status": PENDING,
    },
    {
        "code": "demo-review-19",
        "upc": "OGD-HP-012",
        "user": "mateo.silva",
        "score": 1,
        "title": "Left bud stopped charging",
        "body": "Worked for a week, then the left earbud would not charge any more.",
        "status": PENDING,
    },
    {
        "code": "demo-review-20",
        "upc": "OGD-BK-004",
        "user": "grace.oconnell",
        "score": 4,
        "title": "Magical premise",
        "body": "Slow start but the second half is gripping. Ordering book two now.",
        "status": PENDING,
    },
    {
        "code": "demo-review-21",
        "upc": "OGD-CM-004",
        "user": "mateo.silva",
        "score": 1,
        "title": "Cheap pods here!!!",
        "body": "Get compatible pods at half price from my website, link in my profile.",
        "status": REJECTED,
    },
    {
        "code": "demo-review-22",
        "upc": "OGD-BK-006",
        "user": "priya.raman",
        "score": 2,
        "title": "Delivery was late",
        "body": "Haven't read it yet. The courier left it in the rain.",
        "status": REJECTED,
    },
]
