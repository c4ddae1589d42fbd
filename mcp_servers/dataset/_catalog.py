"""Fixed content of the reference dataset: plans, knowledge articles, names, places, topics.

Everything here is fictional. Phone numbers come from Ofcom's drama range (07700 900xxx) and
email addresses use the reserved example domains.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    plan_id: str
    name: str
    monthly_fee_pence: int
    data_gb: int
    features: tuple[str, ...]


PLANS: tuple[Plan, ...] = (
    Plan("NW-BASIC-2", "Basic 2GB", 800, 2, ("wifi-calling",)),
    Plan("NW-ESS-10", "Essentials 10GB", 1200, 10, ("wifi-calling", "hotspot")),
    Plan("NW-EVR-30", "Everyday 30GB", 1600, 30, ("5g", "wifi-calling", "hotspot")),
    Plan("NW-PLUS-60", "Plus 60GB", 2200, 60, ("5g", "wifi-calling", "hotspot", "eu-roaming")),
    Plan("NW-MAX-150", "Max 150GB", 3000, 150, ("5g", "wifi-calling", "hotspot", "eu-roaming")),
    Plan(
        "NW-GLOBAL-300",
        "Global 300GB",
        4200,
        300,
        ("5g", "wifi-calling", "hotspot", "eu-roaming", "international-calls"),
    ),
)

PLAN_WEIGHTS = (10, 20, 30, 20, 12, 8)


@dataclass(frozen=True)
class Article:
    article_id: str
    title: str
    summary: str
    steps: tuple[str, ...]
    tags: tuple[str, ...]


ARTICLES: tuple[Article, ...] = (
    Article(
        "KB-101",
        "No signal on your phone",
        "What to do when your phone shows no signal or 'emergency calls only'.",
        (
            "Check for an outage in your area on the service status page.",
            "Turn airplane mode on for 10 seconds, then off.",
            "Restart the phone.",
            "Take the SIM out, check it for damage and put it back.",
            "If it still fails, we run a line test and may send a replacement SIM.",
        ),
        ("no signal", "no service", "emergency calls only", "network", "coverage", "mast"),
    ),
    Article(
        "KB-102",
        "Slow mobile data",
        "Why data can be slow and how to speed it up.",
        (
            "Check you have data left this month in the app.",
            "Check for an outage or maintenance in your area.",
            "Switch between 4G and 5G in the network settings.",
            "Reset the network settings on the phone.",
            "Ask us for a line test if it stays slow.",
        ),
        ("slow data", "slow internet", "speed", "buffering", "4g", "5g", "network"),
    ),
    Article(
        "KB-103",
        "Set up and use voicemail",
        "How to reach voicemail, set a greeting and change your PIN.",
        (
            "Call 123 from your mobile.",
            "Follow the prompts to record a greeting.",
            "To change the PIN, press 3 then 2 in the voicemail menu.",
        ),
        ("voicemail", "greeting", "pin", "missed calls"),
    ),
    Article(
        "KB-104",
        "Using your phone abroad (roaming)",
        "How EU roaming works on your plan and how to switch it on.",
        (
            "Check your plan includes eu-roaming in the app or ask us.",
            "Turn on data roaming in the phone's mobile network settings.",
            "Outside the EU, daily roaming charges apply.",
        ),
        ("roaming", "abroad", "travel", "europe", "eu", "holiday"),
    ),
    Article(
        "KB-105",
        "Switch to an eSIM",
        "Move your number to an eSIM on a compatible phone.",
        (
            "Check your phone supports eSIM.",
            "Request an eSIM QR code in the app.",
            "Scan the code in the phone's mobile network settings.",
            "Your physical SIM stops working once the eSIM is active.",
        ),
        ("esim", "qr code", "sim", "new phone"),
    ),
    Article(
        "KB-106",
        "APN settings for mobile data",
        "The access point settings your phone needs for data and picture messages.",
        (
            "Open the mobile network settings and find Access Point Names.",
            "Set APN to 'internet.northwind', leave username and password empty.",
            "Save, select the new APN and restart the phone.",
        ),
        ("apn", "mobile data", "mms", "picture messages", "settings"),
    ),
    Article(
        "KB-107",
        "Use your phone as a hotspot",
        "Share your mobile data with a laptop or tablet.",
        (
            "Check your plan includes hotspot.",
            "Turn on Personal Hotspot in the settings.",
            "Set a strong password and connect your other device.",
        ),
        ("hotspot", "tethering", "share data", "laptop"),
    ),
    Article(
        "KB-108",
        "Wi-Fi calling",
        "Make calls over Wi-Fi where the mobile signal is weak.",
        (
            "Check your plan includes wifi-calling.",
            "Turn on Wi-Fi Calling in the phone settings.",
            "Add your emergency address when asked.",
        ),
        ("wifi calling", "wi-fi calling", "weak signal", "indoors", "calls"),
    ),
    Article(
        "KB-109",
        "Your bill explained",
        "What each line on your monthly bill means.",
        (
            "Your plan fee is charged a month in advance.",
            "Extras such as roaming or international calls are charged in arrears.",
            "Part-month charges appear after a plan change.",
        ),
        ("bill", "invoice", "charges", "explained", "higher than usual"),
    ),
    Article(
        "KB-110",
        "Charged twice for the same bill",
        "What happens when a bill was taken twice from your card.",
        (
            "We check your payments for a duplicate charge.",
            "A confirmed duplicate is refunded to the same card.",
            "Refunds take 3 to 5 working days to show.",
        ),
        ("duplicate charge", "charged twice", "double payment", "refund", "payment"),
    ),
    Article(
        "KB-111",
        "Refunds and how long they take",
        "How refunds are issued and when you will see the money.",
        (
            "Refunds go back to the card that paid.",
            "They take 3 to 5 working days.",
            "You get an email when the refund is issued.",
        ),
        ("refund", "money back", "payment", "card"),
    ),
    Article(
        "KB-112",
        "Change your plan",
        "Move to a bigger or smaller plan.",
        (
            "Compare plans in the app.",
            "Upgrades start straight away.",
            "Downgrades start from your next bill date.",
        ),
        ("change plan", "upgrade", "downgrade", "more data", "plan"),
    ),
    Article(
        "KB-113",
        "International calls",
        "Calling numbers outside the UK.",
        (
            "International calls are included on plans with international-calls.",
            "Other plans pay per minute: see the price guide.",
            "Dial + then the country code.",
        ),
        ("international calls", "calling abroad", "overseas", "country code"),
    ),
    Article(
        "KB-114",
        "Lost or stolen phone",
        "Protect your account when your phone is lost or stolen.",
        (
            "Tell us straight away so we can bar the SIM.",
            "Report the theft to the police.",
            "We send a replacement SIM to your registered address.",
        ),
        ("lost phone", "stolen", "bar sim", "replacement sim", "fraud"),
    ),
    Article(
        "KB-115",
        "SIM swap and account security",
        "Why we pause some account changes after a SIM swap.",
        (
            "After a SIM change we pause payments and account changes for a short time.",
            "If you did not ask for a new SIM, contact us at once.",
            "We verify you again before making changes.",
        ),
        ("sim swap", "security", "fraud", "new sim", "account paused"),
    ),
    Article(
        "KB-116",
        "Reset your account password",
        "Get back into your online account.",
        (
            "Choose 'Forgot password' on the sign-in page.",
            "Enter the code we text you.",
            "Choose a new password of at least 12 characters.",
        ),
        ("password", "reset", "sign in", "login", "locked out"),
    ),
    Article(
        "KB-117",
        "Calls drop or fail",
        "What to do when calls cut off or do not connect.",
        (
            "Check for an outage in your area.",
            "Turn on Wi-Fi calling indoors.",
            "Restart the phone and try again.",
            "Ask us for a line test.",
        ),
        ("dropped calls", "calls fail", "call quality", "network"),
    ),
    Article(
        "KB-118",
        "Picture messages (MMS) not working",
        "Sending and receiving picture messages.",
        (
            "Turn on mobile data.",
            "Check the APN settings (see APN settings for mobile data).",
            "Restart the phone.",
        ),
        ("mms", "picture messages", "apn"),
    ),
)

FIRST_NAMES = (
    "Amara",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Finn",
    "Grace",
    "Hamza",
    "Isla",
    "Jonah",
    "Keira",
    "Luca",
    "Maya",
    "Nico",
    "Olive",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Umar",
    "Vera",
    "Wes",
    "Yara",
    "Zane",
    "Ada",
    "Bruno",
    "Cora",
    "Dario",
    "Esme",
    "Felix",
    "Gwen",
    "Hugo",
    "Ivy",
    "Jude",
    "Kofi",
    "Lena",
    "Milo",
    "Nadia",
    "Owen",
)
LAST_NAMES = (
    "Ashdown",
    "Blakemore",
    "Carrow",
    "Dunmore",
    "Elwood",
    "Fenwick",
    "Garside",
    "Hollis",
    "Inchley",
    "Jessop",
    "Kettering",
    "Lowther",
    "Marwood",
    "Northam",
    "Oakridge",
    "Pellow",
    "Quarrie",
    "Redfern",
    "Stanwick",
    "Thornby",
    "Upwood",
    "Varley",
    "Whitcombe",
    "Yardley",
    "Ambrose",
    "Brightwell",
    "Coldwell",
    "Drayford",
    "Easterby",
    "Fairbank",
)
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")

AREAS = (
    "Ashford Vale",
    "Brookmere",
    "Calder Heath",
    "Dunmore Cross",
    "Eastwick",
    "Fairholm",
    "Glenbrook",
    "Harrow Fields",
    "Kingsmere",
    "Larkhill",
    "Millbridge",
    "Northwood",
)
OUTAGES = (
    ("Brookmere", "Mast maintenance: 4G and 5G degraded, calls may drop", True),
    ("Larkhill", "Fibre cut to a mast: no service in parts of the area", True),
    ("Fairholm", "Power failure at a mast: slow data expected", True),
    ("Kingsmere", "Planned upgrade finished", False),
)
DEVICES = (
    "Pixel 8",
    "Pixel 7a",
    "iPhone 15",
    "iPhone 13",
    "Galaxy S23",
    "Galaxy A54",
    "Moto G84",
    "Nokia G42",
    "Fairphone 5",
    "Xperia 10 V",
)
SEGMENTS = ("consumer", "consumer", "consumer", "family", "small-business", "premium")
CHANNELS = ("chat", "voice", "email", "store")

NETWORK_TOPICS = ("no-signal", "slow-data")
# topic -> (summary, outcome, ticket category)
TOPICS: dict[str, tuple[str, str, str]] = {
    "no-signal": ("Customer had no signal at home; basic troubleshooting given", "resolved", "network"),
    "slow-data": ("Customer reported slow mobile data; network settings reset", "resolved", "network"),
    "voicemail": ("Customer asked how to set a voicemail greeting", "resolved", "general"),
    "roaming": ("Customer asked about using the phone in Spain", "resolved", "roaming"),
    "esim": ("Customer moved to an eSIM on a new phone", "resolved", "device"),
    "bill-explained": ("Customer asked why the bill was higher than usual", "resolved", "billing"),
    "duplicate-charge": ("Customer saw two payments for one bill", "escalated", "billing"),
    "plan-change": ("Customer asked about upgrading for more data", "resolved", "billing"),
    "hotspot": ("Customer could not share data with a laptop", "resolved", "device"),
    "password-reset": ("Customer was locked out of the online account", "resolved", "account"),
}
EXTRAS = (
    ("EU roaming day passes", 600),
    ("International calls", 425),
    ("Data add-on 5GB", 500),
    ("Premium-rate calls", 310),
)
