"""Units the claims checker understands, per language, with their conversion to a base unit.

A unit is ``(canonical symbol, dimension, factor, offset)``: ``base = value * factor + offset``.
Base units: metre, kilogram, second, litre, byte (decimal: 1 TB = 1000 GB), watt, pascal,
joule, degree Celsius, hertz, percent, piece, milliampere-hour, volt, ampere, lumen, decibel,
square metre, metre per second, degree of angle, megapixel.

Symbols (``g``, ``m``, ``W``, ``L``) are looked up with their case, because ``5G`` is not five
grams and ``3M`` is not three metres; words (``grams``, ``Stunden``) ignore case.
"""

from __future__ import annotations

from typing import NamedTuple


class Unit(NamedTuple):
    #: The symbol a :class:`Quantity` reports, e.g. ``"h"`` for "hours", "hrs" and "Stunden".
    symbol: str
    #: "length", "mass", "time", ... (see the module docstring).
    dimension: str
    #: Multiply by this (then add ``offset``) to get the dimension's base unit.
    factor: float
    offset: float = 0.0


def _u(symbol: str, dimension: str, factor: float, offset: float = 0.0) -> Unit:
    return Unit(symbol, dimension, factor, offset)


MM = _u("mm", "length", 0.001)
CM = _u("cm", "length", 0.01)
M = _u("m", "length", 1.0)
KM = _u("km", "length", 1000.0)
UM = _u("µm", "length", 1e-6)
INCH = _u("in", "length", 0.0254)
FOOT = _u("ft", "length", 0.3048)
YARD = _u("yd", "length", 0.9144)
MILE = _u("mi", "length", 1609.344)
MG = _u("mg", "mass", 1e-6)
G = _u("g", "mass", 0.001)
KG = _u("kg", "mass", 1.0)
T = _u("t", "mass", 1000.0)
OZ = _u("oz", "mass", 0.028349523125)
LB = _u("lb", "mass", 0.45359237)
CARAT = _u("ct", "mass", 0.0002)
MS = _u("ms", "time", 0.001)
SEC = _u("s", "time", 1.0)
MIN = _u("min", "time", 60.0)
HOUR = _u("h", "time", 3600.0)
DAY = _u("d", "time", 86400.0)
WEEK = _u("wk", "time", 604800.0)
MONTH = _u("mo", "time", 2629800.0)
YEAR = _u("yr", "time", 31557600.0)
ML = _u("ml", "volume", 0.001)
CL = _u("cl", "volume", 0.01)
DL = _u("dl", "volume", 0.1)
LITRE = _u("l", "volume", 1.0)
FLOZ = _u("fl oz", "volume", 0.0295735295625)
GALLON = _u("gal", "volume", 3.785411784)
QUART = _u("qt", "volume", 0.946352946)
PINT = _u("pt", "volume", 0.473176473)
CUP = _u("cup", "volume", 0.2365882365)
TBSP = _u("tbsp", "volume", 0.01478676478125)
TSP = _u("tsp", "volume", 0.00492892159375)
CUFT = _u("cu ft", "volume", 28.316846592)
CC = _u("cc", "volume", 0.001)
BYTE = _u("B", "data", 1.0)
KB = _u("KB", "data", 1e3)
MB = _u("MB", "data", 1e6)
GB = _u("GB", "data", 1e9)
TB = _u("TB", "data", 1e12)
PB = _u("PB", "data", 1e15)
W = _u("W", "power", 1.0)
KW = _u("kW", "power", 1000.0)
HP = _u("hp", "power", 745.69987158227)
PA = _u("Pa", "pressure", 1.0)
KPA = _u("kPa", "pressure", 1000.0)
MPA = _u("MPa", "pressure", 1e6)
BAR = _u("bar", "pressure", 1e5)
MBAR = _u("mbar", "pressure", 100.0)
PSI = _u("psi", "pressure", 6894.757293168)
ATM = _u("atm", "pressure", 101325.0)
J = _u("J", "energy", 1.0)
KJ = _u("kJ", "energy", 1000.0)
WH = _u("Wh", "energy", 3600.0)
KWH = _u("kWh", "energy", 3.6e6)
#: Food labels say "calories" and mean kilocalories.
KCAL = _u("kcal", "energy", 4184.0)
CELSIUS = _u("°C", "temperature", 1.0)
FAHRENHEIT = _u("°F", "temperature", 5.0 / 9.0, -160.0 / 9.0)
KELVIN = _u("K", "temperature", 1.0, -273.15)
HZ = _u("Hz", "frequency", 1.0)
KHZ = _u("kHz", "frequency", 1e3)
MHZ = _u("MHz", "frequency", 1e6)
GHZ = _u("GHz", "frequency", 1e9)
RPM = _u("rpm", "frequency", 1.0 / 60.0)
PERCENT = _u("%", "percent", 1.0)
PIECE = _u("pcs", "count", 1.0)
MAH = _u("mAh", "charge", 1.0)
AH = _u("Ah", "charge", 1000.0)
V = _u("V", "voltage", 1.0)
MV = _u("mV", "voltage", 0.001)
KV = _u("kV", "voltage", 1000.0)
A = _u("A", "current", 1.0)
MA = _u("mA", "current", 0.001)
LM = _u("lm", "luminous flux", 1.0)
DB = _u("dB", "sound level", 1.0)
SQM = _u("m²", "area", 1.0)
SQCM = _u("cm²", "area", 1e-4)
SQFT = _u("sq ft", "area", 0.09290304)
SQIN = _u("sq in", "area", 0.00064516)
MPS = _u("m/s", "speed", 1.0)
KMH = _u("km/h", "speed", 1.0 / 3.6)
MPH = _u("mph", "speed", 0.44704)
#: A bare degree sign: an angle, or a temperature whose scale the text left out.
DEGREE = _u("°", "angle", 1.0)
MP = _u("MP", "resolution", 1.0)
LUX = _u("lx", "illuminance", 1.0)
BPS = _u("bit/s", "data rate", 1.0)
KBPS = _u("kbit/s", "data rate", 1e3)
MBPS = _u("Mbit/s", "data rate", 1e6)
GBPS = _u("Gbit/s", "data rate", 1e9)
GBYTEPS = _u("GB/s", "data rate", 8e9)
MBYTEPS = _u("MB/s", "data rate", 8e6)

#: Symbols, matched with their case. Both cases are listed where both are in common use.
# fmt: off
SYMBOLS: dict[str, Unit] = {
    "mm": MM, "MM": MM, "cm": CM, "CM": CM, "m": M, "km": KM, "KM": KM, "µm": UM, "μm": UM,
    "in": INCH, "ft": FOOT, "FT": FOOT, "yd": YARD, "mi": MILE,
    "mg": MG, "g": G, "kg": KG, "KG": KG, "Kg": KG, "oz": OZ, "OZ": OZ, "Oz": OZ,
    "lb": LB, "lbs": LB, "LB": LB, "LBS": LB, "Lbs": LB, "Lb": LB, "Mm": MM, "Cm": CM,
    "Ml": ML, "Ft": FOOT, "Min": MIN, "Mins": MIN, "Gal": GALLON, "Mah": MAH, "Ltr": LITRE,
    "ms": MS, "h": HOUR, "hr": HOUR, "hrs": HOUR, "Hr": HOUR, "Hrs": HOUR, "min": MIN,
    "mins": MIN, "sec": SEC, "secs": SEC,
    "ml": ML, "mL": ML, "ML": ML, "cl": CL, "dl": DL, "l": LITRE, "L": LITRE, "ltr": LITRE,
    "gal": GALLON, "qt": QUART, "pt": PINT, "tbsp": TBSP, "tsp": TSP, "cc": CC,
    "B": BYTE, "KB": KB, "kB": KB, "Kb": KB, "MB": MB, "Mb": MB, "GB": GB, "Gb": GB, "gb": GB,
    "TB": TB, "Tb": TB, "tb": TB, "PB": PB,
    "W": W, "w": W, "kW": KW, "KW": KW, "hp": HP, "HP": HP,
    "Pa": PA, "kPa": KPA, "MPa": MPA, "bar": BAR, "mbar": MBAR, "psi": PSI, "PSI": PSI,
    "atm": ATM,
    "J": J, "kJ": KJ, "Wh": WH, "kWh": KWH, "KWh": KWH, "kcal": KCAL, "Kcal": KCAL,
    "cal": KCAL, "Cal": KCAL,
    "Hz": HZ, "hz": HZ, "kHz": KHZ, "KHz": KHZ, "khz": KHZ, "MHz": MHZ, "Mhz": MHZ, "mhz": MHZ,
    "GHz": GHZ, "Ghz": GHZ, "ghz": GHZ, "rpm": RPM, "RPM": RPM,
    "pcs": PIECE, "PCS": PIECE, "Pcs": PIECE, "pc": PIECE, "pk": PIECE,
    "mAh": MAH, "mah": MAH, "MAH": MAH, "Ah": AH, "AH": AH,
    "V": V, "v": V, "mV": MV, "kV": KV, "A": A, "mA": MA,
    "lm": LM, "dB": DB, "db": DB, "dBA": DB,
    "m²": SQM, "sqm": SQM, "cm²": SQCM, "mph": MPH, "kph": KMH, "km/h": KMH,
    "m/s": MPS, "MP": MP, "lx": LUX, "kbps": KBPS, "Kbps": KBPS, "Mbps": MBPS, "mbps": MBPS,
    "Gbps": GBPS, "gbps": GBPS, "Mbit/s": MBPS, "Gbit/s": GBPS, "GB/s": GBYTEPS,
    "MB/s": MBYTEPS, "°C": CELSIUS, "℃": CELSIUS, "°F": FAHRENHEIT, "℉": FAHRENHEIT,
    "°": DEGREE, "%": PERCENT, '"': INCH, "″": INCH, "”": INCH, "''": INCH, "'": FOOT,
    "′": FOOT, "’": FOOT,
}
# fmt: on


def _plural(words: dict[str, Unit], *extra: tuple[str, Unit]) -> dict[str, Unit]:
    out = dict(extra)
    for word, unit in words.items():
        out[word] = unit
        if not word.endswith("s"):
            out[word + "s"] = unit
    return out


#: Unit words per language, lower case, singular (an English plural "s" is added).
# fmt: off
WORDS: dict[str, dict[str, Unit]] = {
    "en": _plural(
        {
            "millimeter": MM, "millimetre": MM, "centimeter": CM, "centimetre": CM,
            "meter": M, "metre": M, "kilometer": KM, "kilometre": KM, "micron": UM,
            "micrometer": UM, "micrometre": UM,
            "inch": INCH, "foot": FOOT, "yard": YARD, "mile": MILE,
            "milligram": MG, "gram": G, "gramme": G, "kilogram": KG, "kilo": KG,
            "tonne": T, "ounce": OZ, "pound": LB, "carat": CARAT, "karat": CARAT,
            "millisecond": MS, "second": SEC, "minute": MIN, "hour": HOUR, "day": DAY,
            "week": WEEK, "month": MONTH, "year": YEAR, "yr": YEAR, "yrs": YEAR,
            "milliliter": ML, "millilitre": ML, "centiliter": CL, "centilitre": CL,
            "liter": LITRE, "litre": LITRE, "fluid ounce": FLOZ, "fl oz": FLOZ,
            "fl. oz": FLOZ, "floz": FLOZ, "gallon": GALLON, "quart": QUART, "pint": PINT,
            "cup": CUP, "tablespoon": TBSP, "teaspoon": TSP, "cubic foot": CUFT,
            "cubic feet": CUFT, "cu ft": CUFT, "cubic centimeter": CC, "cubic centimetre": CC,
            "byte": BYTE, "kilobyte": KB, "megabyte": MB, "gigabyte": GB, "terabyte": TB,
            "petabyte": PB,
            "watt": W, "kilowatt": KW, "horsepower": HP,
            "pascal": PA, "kilopascal": KPA, "megapascal": MPA, "millibar": MBAR,
            "atmosphere": ATM,
            "joule": J, "kilojoule": KJ, "watt hour": WH, "watt-hour": WH,
            "kilowatt hour": KWH, "kilowatt-hour": KWH, "calorie": KCAL, "kilocalorie": KCAL,
            "degree celsius": CELSIUS, "degrees celsius": CELSIUS, "degree c": CELSIUS,
            "degrees c": CELSIUS, "celsius": CELSIUS, "centigrade": CELSIUS,
            "degrees centigrade": CELSIUS,
            # A misspelling frequent enough in shop data to be worth reading.
            "celcius": CELSIUS, "degrees celcius": CELSIUS,
            "degree fahrenheit": FAHRENHEIT, "degrees fahrenheit": FAHRENHEIT,
            "degree f": FAHRENHEIT, "degrees f": FAHRENHEIT, "fahrenheit": FAHRENHEIT,
            "kelvin": KELVIN, "degree": DEGREE,
            "hertz": HZ, "kilohertz": KHZ, "megahertz": MHZ, "gigahertz": GHZ,
            "percent": PERCENT, "per cent": PERCENT, "pct": PERCENT,
            "piece": PIECE, "pack": PIECE, "count": PIECE,
            "milliampere hour": MAH, "milliampere-hour": MAH, "milliamp hour": MAH,
            "milliamp-hour": MAH, "ampere hour": AH, "amp hour": AH,
            "volt": V, "millivolt": MV, "kilovolt": KV, "amp": A, "ampere": A,
            "milliamp": MA, "milliampere": MA,
            "lumen": LM, "decibel": DB,
            "square meter": SQM, "square metre": SQM, "square centimeter": SQCM,
            "square foot": SQFT, "square feet": SQFT, "sq ft": SQFT, "sq. ft": SQFT,
            "sqft": SQFT, "square inch": SQIN, "sq in": SQIN,
            "kilometers per hour": KMH, "kilometres per hour": KMH, "miles per hour": MPH,
            "meters per second": MPS, "metres per second": MPS,
            "megapixel": MP, "lux": LUX,
            "bit per second": BPS, "bits per second": BPS, "kilobits per second": KBPS,
            "megabits per second": MBPS, "gigabits per second": GBPS,
            "megabytes per second": MBYTEPS, "gigabytes per second": GBYTEPS,
        },
        ("feet", FOOT), ("inches", INCH),
    ),
    "de": _plural(
        {
            "millimeter": MM, "zentimeter": CM, "meter": M, "kilometer": KM, "mikrometer": UM,
            "zoll": INCH, "fuß": FOOT, "fuss": FOOT,
            "milligramm": MG, "gramm": G, "kilogramm": KG, "kilo": KG, "tonne": T, "unze": OZ,
            "pfund": LB, "karat": CARAT,
            "millisekunde": MS, "millisekunden": MS, "sekunde": SEC, "sekunden": SEC,
            "minute": MIN, "minuten": MIN, "std": HOUR, "stunde": HOUR, "stunden": HOUR,
            "tag": DAY, "tage": DAY, "tagen": DAY, "woche": WEEK, "wochen": WEEK,
            "monat": MONTH, "monate": MONTH, "monaten": MONTH, "jahr": YEAR, "jahre": YEAR,
            "jahren": YEAR,
            "milliliter": ML, "zentiliter": CL, "deziliter": DL, "liter": LITRE,
            "byte": BYTE, "kilobyte": KB, "megabyte": MB, "gigabyte": GB, "terabyte": TB,
            "watt": W, "kilowatt": KW, "ps": HP,
            "pascal": PA, "kilopascal": KPA, "millibar": MBAR,
            "joule": J, "kilojoule": KJ, "wattstunde": WH, "wattstunden": WH,
            "kilowattstunde": KWH, "kilowattstunden": KWH, "kalorie": KCAL, "kalorien": KCAL,
            "kilokalorie": KCAL, "kilokalorien": KCAL,
            "grad celsius": CELSIUS, "grad c": CELSIUS, "celsius": CELSIUS,
            "grad fahrenheit": FAHRENHEIT, "fahrenheit": FAHRENHEIT, "kelvin": KELVIN,
            "grad": DEGREE,
            "hertz": HZ, "kilohertz": KHZ, "megahertz": MHZ, "gigahertz": GHZ,
            "prozent": PERCENT,
            "stück": PIECE, "stk": PIECE, "packung": PIECE,
            "milliamperestunde": MAH, "milliamperestunden": MAH, "amperestunde": AH,
            "amperestunden": AH,
            "volt": V, "millivolt": MV, "ampere": A, "milliampere": MA,
            "lumen": LM, "dezibel": DB,
            "quadratmeter": SQM, "quadratzentimeter": SQCM,
            "kilometer pro stunde": KMH, "stundenkilometer": KMH, "megapixel": MP,
        },
    ),
}
# fmt: on


def to_base(value: float, unit: Unit) -> float:
    """The value in its dimension's base unit (metres, kilograms, seconds, ...)."""
    return value * unit.factor + unit.offset
