"""The synthetic directory's distributions: every table and rate the generator draws from.

The figures behind each, and which are assumptions, are in ``profiles/README.md``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from matcher import vocabulary as vocab

DEFAULT_SEED = 20261122
DEFAULT_COUNT = 2400
ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")

Floats = NDArray[np.float64]
Ints = NDArray[np.intp]
Bools = NDArray[np.bool_]

MODALITY_CODES = tuple(vocab.MODALITIES)
CONCERN_CODES = tuple(vocab.CONCERNS)
POPULATION_CODES = tuple(vocab.POPULATIONS)
IDENTITY_CODES = tuple(vocab.IDENTITIES)
FAITH_CODES = tuple(vocab.FAITHS)
STYLE_CODES = tuple(vocab.STYLE_DIMENSIONS)
GENDER_CODES = ("woman", "man", "nonbinary")
KINDS = ("psychologist", "social_worker", "mft", "counselor")


@dataclass(frozen=True)
class Metro:
    """A real metro centre around which fictional practices are scattered."""

    name: str
    lat: float
    lon: float
    weight: float
    jitter_km: float
    timezone: str
    postal_prefixes: tuple[str, ...]  # 3-digit ZIP prefixes (US) or letter+digit (Canada)


@dataclass(frozen=True)
class Region:
    """A licensing jurisdiction and the mixes its therapists are drawn from."""

    code: str
    population_m: float
    fee_median: float
    spanish: float  # share of therapists without Spanish at home who list Spanish
    french: float  # share of therapists without French at home who list French
    neighbours: tuple[str, ...]
    credentials: Mapping[str, float]
    groups: Mapping[str, float]
    metros: tuple[Metro, ...]
    francophone: bool = False

    @property
    def country(self) -> str:
        """ISO 3166-1 alpha-2 code of the region's country."""
        return self.code[:2]


@dataclass(frozen=True)
class NameGroup:
    """Names, home languages and faiths shared by one cultural background."""

    identity: str | None
    languages: tuple[str, ...]
    speaks: float  # share who list the home languages
    faiths: Mapping[str, float]
    women: tuple[str, ...]
    men: tuple[str, ...]
    surnames: tuple[str, ...]


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _shares(text: str) -> dict[str, float]:
    """Parse ``"code:weight code:weight"`` into a mapping."""
    return {code: float(weight) for code, weight in (item.split(":") for item in text.split())}


def _metro(
    name: str, lat: float, lon: float, weight: float, km: float, tz: str, zips: str
) -> Metro:
    return Metro(name, lat, lon, weight, km, tz, _words(zips))


def _group(
    identity: str | None, languages: str, speaks: float, faiths: str, *names: str
) -> NameGroup:
    women, men, surnames = (_words(pool) for pool in names)
    return NameGroup(identity, _words(languages), speaks, _shares(faiths), women, men, surnames)


PACIFIC, EASTERN, CENTRAL = "America/Los_Angeles", "America/New_York", "America/Chicago"
TORONTO, VANCOUVER = "America/Toronto", "America/Vancouver"
US_KINDS = "psychologist:.25 social_worker:.32 mft:.13 counselor:.30"

# Data tables are laid out by hand, one row per entry, for reading.
# fmt: off

# Background mixes are assumptions anchored on APA CWS (about 80% of US psychologists were white
# in 2021) and kept somewhat more diverse for social work and counselling; weights need not sum
# to 1. Population weights: 2023-24 census estimates, in millions.
REGIONS: Mapping[str, Region] = {region.code: region for region in (
    Region(
        "US-CA", 39.0, 155, 0.05, 0.01, ("US-OR", "US-NV", "US-AZ"),
        _shares("psychologist:.22 social_worker:.25 mft:.45 counselor:.08"),
        _shares("anglo:55 black:5 hispanic:17 chinese:5 korean:2.5 japanese:1.5 indian:2 "
                "punjabi:.5 pakistani:.3 vietnamese:2 filipino:2 arab:1 persian:2 indigenous:.4 "
                "pacific:.3"),
        (_metro("Los Angeles", 34.0522, -118.2437, .50, 6, PACIFIC, "900 902 904 906 910 913 917"),
         _metro("San Francisco", 37.7749, -122.4194, .28, 3, PACIFIC, "940 941 944"),
         _metro("San Diego", 32.7500, -117.1300, .14, 5, PACIFIC, "919 920 921"),
         _metro("Sacramento", 38.5816, -121.4944, .08, 5, PACIFIC, "956 957 958")),
    ),
    Region(
        "US-NY", 19.6, 160, 0.03, 0.01, ("US-NJ", "US-CT", "US-PA", "US-VT"),
        _shares(US_KINDS),
        _shares("anglo:66 black:10 haitian:1.5 hispanic:11 chinese:3 korean:1.5 japanese:.5 "
                "indian:2 pakistani:.5 punjabi:.2 vietnamese:.3 filipino:.5 arab:.8 persian:.5 "
                "indigenous:.2"),
        (_metro("New York City", 40.7300, -73.9500, .82, 6, EASTERN,
                "100 101 102 103 104 110 111 112 113 114 116"),
         _metro("Buffalo", 42.8864, -78.8784, .07, 4, EASTERN, "140 141 142"),
         _metro("Rochester", 43.1566, -77.6088, .06, 4, EASTERN, "144 145 146"),
         _metro("Albany", 42.6526, -73.7562, .05, 4, EASTERN, "120 121 122")),
    ),
    Region(
        "US-TX", 30.5, 130, 0.06, 0.01, ("US-OK", "US-LA", "US-NM"),
        _shares(US_KINDS),
        _shares("anglo:62 black:9 hispanic:18 chinese:2 korean:1 indian:2.5 pakistani:.8 "
                "vietnamese:1.5 filipino:.8 arab:.8 persian:.5 indigenous:.3"),
        (_metro("Houston", 29.7604, -95.3698, .36, 8, CENTRAL, "770 772 773 774 775"),
         _metro("Dallas-Fort Worth", 32.7767, -96.7970, .38, 8, CENTRAL,
                "750 751 752 753 760 761"),
         _metro("Austin", 30.2672, -97.7431, .14, 5, CENTRAL, "786 787"),
         _metro("San Antonio", 29.4241, -98.4936, .12, 6, CENTRAL, "780 781 782")),
    ),
    Region(
        "US-FL", 22.6, 130, 0.06, 0.01, ("US-GA", "US-AL"),
        _shares(US_KINDS),
        _shares("anglo:62 black:9 haitian:2 hispanic:21 chinese:1 korean:.5 indian:1 "
                "vietnamese:.5 filipino:.8 arab:.6 persian:.3 indigenous:.2"),
        (_metro("Miami", 25.7800, -80.2500, .45, 6, EASTERN, "330 331 332 333"),
         _metro("Tampa", 27.9506, -82.4572, .25, 6, EASTERN, "335 336 337 346"),
         _metro("Orlando", 28.5384, -81.3789, .20, 6, EASTERN, "327 328 347"),
         _metro("Jacksonville", 30.3322, -81.6557, .10, 6, EASTERN, "320 322")),
    ),
    Region(
        "US-IL", 12.5, 140, 0.03, 0.01, ("US-WI", "US-IN", "US-MO", "US-IA"),
        _shares(US_KINDS),
        _shares("anglo:70 black:10 hispanic:11 chinese:2 korean:1 indian:2 pakistani:.8 "
                "filipino:.8 arab:1 persian:.4 indigenous:.2"),
        (_metro("Chicago", 41.8800, -87.7000, .88, 7, CENTRAL,
                "600 601 602 603 604 605 606 607 608"),
         _metro("Rockford", 42.2711, -89.0940, .05, 4, CENTRAL, "610 611"),
         _metro("Champaign-Urbana", 40.1164, -88.2434, .07, 3, CENTRAL, "618 619")),
    ),
    Region(
        "US-WA", 7.8, 145, 0.03, 0.01, ("US-OR", "US-ID"),
        _shares(US_KINDS),
        _shares("anglo:76 black:4 hispanic:6 chinese:3 korean:2 japanese:1 indian:2 "
                "vietnamese:1.5 filipino:1.5 arab:.5 persian:.5 indigenous:.8 pacific:.5"),
        (_metro("Seattle", 47.6200, -122.3200, .70, 5, PACIFIC, "980 981"),
         _metro("Tacoma", 47.2529, -122.4443, .15, 4, PACIFIC, "983 984"),
         _metro("Spokane", 47.6588, -117.4260, .15, 4, PACIFIC, "990 992")),
    ),
    Region(
        "CA-ON", 16.1, 160, 0.01, 0.08, ("CA-QC", "CA-MB"),
        _shares("psychologist:.25 social_worker:.30 counselor:.45"),
        _shares("anglo:66 french:3 black:6 haitian:.3 hispanic:2 chinese:5 korean:1 indian:4 "
                "punjabi:2.5 pakistani:1.5 vietnamese:.5 filipino:1.5 arab:2 persian:2 "
                "indigenous:1"),
        (_metro("Toronto", 43.7000, -79.4000, .70, 7, TORONTO, "M1 M2 M3 M4 M5 M6 M8 M9"),
         _metro("Ottawa", 45.4215, -75.6972, .18, 5, TORONTO, "K1 K2"),
         _metro("Hamilton", 43.2557, -79.8711, .12, 4, TORONTO, "L8 L9")),
    ),
    Region(
        "CA-BC", 5.7, 150, 0.01, 0.04, ("CA-AB",),
        _shares("psychologist:.20 social_worker:.25 counselor:.55"),
        _shares("anglo:70 french:1 black:1.5 hispanic:2 chinese:10 korean:2 japanese:1 indian:2 "
                "punjabi:4 vietnamese:.5 filipino:2 arab:.5 persian:2 indigenous:2"),
        (_metro("Vancouver", 49.2500, -123.1000, .80, 6, VANCOUVER, "V5 V6"),
         _metro("Victoria", 48.4500, -123.3700, .20, 3, VANCOUVER, "V8 V9")),
    ),
    Region(
        "CA-QC", 9.0, 140, 0.03, 0.85, ("CA-ON", "CA-NB"),
        _shares("psychologist:.60 social_worker:.25 counselor:.15"),
        _shares("french:72 anglo:12 black:2 haitian:3 hispanic:2 chinese:1 vietnamese:.5 arab:5 "
                "persian:.5 indigenous:.5 indian:.5"),
        (_metro("Montreal", 45.5200, -73.6000, .80, 6, TORONTO, "H1 H2 H3 H4"),
         _metro("Quebec City", 46.8100, -71.2500, .20, 4, TORONTO, "G1 G2")),
        francophone=True,
    ),
)}

WESTERN_FAITHS = "christian:.45 jewish:.17 secular:.28 buddhist:.06 muslim:.04"
NAME_GROUPS: Mapping[str, NameGroup] = {
    "anglo": _group(
        None, "", 0.0, WESTERN_FAITHS,
        "Sarah Jennifer Emily Jessica Amanda Rachel Lauren Megan Elizabeth Katherine Laura Rebecca "
        "Anna Julia Hannah Allison Melissa Heather Nicole Amy Michelle Erin Kristen Caitlin Molly "
        "Claire Abigail Margaret Susan Leah Natalie Emma",
        "Michael David John James Robert Daniel Matthew Christopher Andrew Joseph Mark Brian Kevin "
        "Thomas Jonathan Benjamin Eric Steven Paul Adam Ryan Nathan Peter Scott Jason Samuel Aaron "
        "Patrick",
        "Smith Johnson Miller Davis Wilson Anderson Taylor Thomas Moore Martin Thompson White "
        "Clark Lewis Walker Hall Allen Young King Wright Scott Green Baker Adams Nelson Hill "
        "Campbell Mitchell Roberts Carter Phillips Evans Turner Parker Collins Edwards Stewart "
        "Morris Murphy Cook Rogers Morgan Cooper Peterson Reed Bailey Bell Kelly Howard Ward Cox "
        "Wood Brooks Bennett Gray Hughes Price Sanders Myers Ross Foster Cohen Goldberg Schwartz "
        "Friedman Katz Levine Kaplan Weiss O'Brien Sullivan Kowalski Novak Russo Romano Marino "
        "Schmidt Mueller Larson Olson Hansen MacDonald",
    ),
    "french": _group(
        None, "fr", 1.0, "christian:.45 secular:.45 jewish:.04 buddhist:.03 muslim:.03",
        "Marie Julie Isabelle Catherine Geneviève Mélanie Nathalie Véronique Sophie Audrey Émilie "
        "Chantal Valérie Annie Caroline Stéphanie Josée Karine",
        "Jean Pierre Marc Luc François Mathieu Philippe Étienne Sébastien Martin Guillaume Simon "
        "Olivier Benoît Alexandre Louis Nicolas",
        "Tremblay Gagnon Roy Côté Bouchard Gauthier Morin Lavoie Fortin Gagné Ouellet Pelletier "
        "Bélanger Lévesque Bergeron Leblanc Paquette Girard Simard Boucher Caron Beaulieu Cloutier "
        "Dubé Poirier Fournier Lapointe Leclerc Lefebvre Poulin Thibault St-Pierre Nadeau Martel "
        "Gilbert Hébert",
    ),
    "black": _group(
        "black", "", 0.0, "christian:.8 muslim:.1 secular:.1",
        "Aaliyah Jasmine Imani Keisha Tiana Ebony Monique Danielle Alicia Crystal Brittany "
        "Kimberly Angela Nia Tamara Kendra Ayesha Simone",
        "Marcus Darnell Andre Malik Terrence Jamal Derrick Jerome Isaiah Xavier Cedric Darius "
        "Anthony Brandon Reginald Kwame",
        "Washington Jefferson Jackson Williams Johnson Brown Jones Davis Robinson Harris Banks "
        "Booker Coleman Freeman Gaines Hayes Mosley Okafor Adeyemi Mensah Okonkwo Diallo Bello "
        "Owusu",
    ),
    "haitian": _group(
        "black", "ht fr", 0.6, "christian:.9 secular:.1",
        "Marie-Claude Nadège Fabienne Guerline Mirlande Roseline Stéphanie Widelene",
        "Jean-Robert Frantz Ricardo Wilner Emmanuel Jacques Réginald Fritz",
        "Jean-Baptiste Pierre Joseph Charles Toussaint Baptiste Louis Jean-Louis Desir Célestin "
        "Étienne Saint-Fleur",
    ),
    "hispanic": _group(
        "latinx", "es", 0.6, "christian:.85 secular:.12 jewish:.03",
        "Ana Maria Sofia Gabriela Daniela Valeria Lucia Isabel Carmen Elena Adriana Veronica "
        "Marisol Paola Natalia Camila Alejandra Rosa",
        "Carlos Jose Luis Juan Miguel Javier Alejandro Diego Ricardo Fernando Eduardo Jorge Manuel "
        "Andres Rafael Mateo",
        "Garcia Rodriguez Martinez Hernandez Lopez Gonzalez Perez Sanchez Ramirez Torres Flores "
        "Rivera Gomez Diaz Reyes Cruz Morales Ortiz Gutierrez Chavez Ramos Ruiz Alvarez Mendoza "
        "Castillo Vargas Romero Herrera Medina Aguilar Castro Vega Soto Delgado Fuentes Navarro",
    ),
    "chinese": _group(
        "east_asian", "zh", 0.4, "christian:.4 buddhist:.3 secular:.3",
        "Grace Jenny Michelle Christine Helen Amy Joyce Mei Lin Xiaoling Wen Eunice",
        "David Kevin Daniel Andrew Eric Jason Steven Wei Jun Hao Ming Vincent",
        "Chen Wang Li Zhang Liu Huang Lin Wu Yang Zhao Wong Chan Leung Ho Cheung Zhou",
    ),
    "korean": _group(
        "east_asian", "ko", 0.35, "christian:.7 buddhist:.1 secular:.2",
        "Grace Esther Hannah Ji-woo Min-ji Soo-jin Eunice Jenny",
        "Daniel Paul Sung Min-jun Jae Joon Samuel Peter",
        "Kim Lee Park Choi Jung Kang Cho Yoon Jang Lim Han Shin",
    ),
    "japanese": _group(
        "east_asian", "ja", 0.15, "buddhist:.4 christian:.2 secular:.4",
        "Yuki Naomi Emi Keiko Hana Amy Lisa Mari",
        "Kenji Hiroshi Ken Takeshi Daniel Brian Ryan Kai",
        "Tanaka Sato Nakamura Yamamoto Watanabe Suzuki Takahashi Ito Kobayashi Yoshida",
    ),
    "indian": _group(
        "south_asian", "hi", 0.4, "hindu:.6 muslim:.1 sikh:.05 christian:.1 secular:.15",
        "Priya Anjali Neha Divya Kavya Pooja Shreya Meera Lakshmi Ritu",
        "Rahul Arjun Vikram Sanjay Anil Rohan Amit Suresh Nikhil Ravi",
        "Patel Sharma Singh Gupta Reddy Iyer Nair Mehta Shah Desai Rao Joshi Kapoor",
    ),
    "punjabi": _group(
        "south_asian", "pa", 0.5, "sikh:.75 hindu:.15 secular:.1",
        "Harpreet Simran Manpreet Jasleen Gurpreet Navneet Amrit Kiran",
        "Harjit Gurdeep Jaspreet Manjit Rajinder Sukhdeep Baljit Amandeep",
        "Sandhu Gill Dhillon Grewal Sidhu Brar Sangha Johal Bains Virk",
    ),
    "pakistani": _group(
        "south_asian", "ur", 0.45, "muslim:.9 secular:.1",
        "Ayesha Fatima Sana Hina Zainab Maryam Amna Nadia",
        "Imran Ali Bilal Hassan Usman Faisal Kamran Tariq",
        "Khan Ahmed Malik Qureshi Siddiqui Chaudhry Butt Hussain Iqbal Raza",
    ),
    "vietnamese": _group(
        "southeast_asian", "vi", 0.45, "buddhist:.55 christian:.3 secular:.15",
        "Linh Thao Mai Trang Lan Vy Tiffany Kim",
        "Minh Tuan Duc Quang Huy Long Peter Vinh",
        "Nguyen Tran Le Pham Hoang Phan Vu Dang Bui Do Ngo Duong",
    ),
    "filipino": _group(
        "southeast_asian", "tl", 0.35, "christian:.9 secular:.1",
        "Maria Kristine Joy Angelica Rowena Michelle Jasmine Patricia",
        "Jose Mark Ramon Paolo Miguel Carlo Joseph Rey",
        "Santos Reyes Cruz Bautista Ocampo Garcia Mendoza Villanueva Aquino Castillo Manalo",
    ),
    "arab": _group(
        "mena", "ar", 0.5, "muslim:.65 christian:.25 secular:.1",
        "Layla Nour Rania Yasmin Lina Dina Hala Salma Mariam",
        "Omar Karim Ahmed Youssef Khalil Samir Tarek Rami Nabil",
        "Haddad Khoury Mansour Saleh Nasser Hamdan Aziz Farah Darwish Khalil Said Ibrahim",
    ),
    "persian": _group(
        "mena", "fa", 0.5, "muslim:.4 secular:.4 jewish:.1 christian:.1",
        "Shirin Leila Mina Nasrin Parisa Roya Yasmin Azadeh",
        "Reza Ali Dariush Kian Babak Arash Cyrus Farhad",
        "Hosseini Ahmadi Mohammadi Karimi Rahimi Moradi Jafari Rezaei Tehrani Sadeghi",
    ),
    "indigenous": _group(
        "indigenous", "", 0.0, "christian:.4 secular:.6",
        "Tala Winona Aiyana Shawna Dawn Cheyenne Jolene Sarah",
        "Dakota Tyler Jesse Cody Wade Raymond Joseph Travis",
        "Begay Yazzie Tsosie Benally Whitehorse Cardinal Bear Morningstar Littlechild Redsky "
        "Sinclair Bird",
    ),
    "pacific": _group(
        "pacific_islander", "sm", 0.25, "christian:.9 secular:.1",
        "Leilani Malia Keala Noelani Sina Mele",
        "Koa Kai Makoa Sione Tavita Keoni",
        "Kealoha Fonoti Tuiasosopo Faleolo Mahoe Tupou Kahananui Leota",
    ),
}
NEUTRAL_NAMES = _words(
    "Alex Jordan Sam Taylor Riley Casey Jamie Avery Morgan Quinn Rowan Sage Robin Emerson Skyler "
    "Kai Charlie Camille Sacha Dominique Jesse Devon Ari Noor"
)

TITLES: Mapping[str, Mapping[str, str]] = {
    "US": {"psychologist": "Licensed Psychologist", "social_worker": "LCSW", "mft": "LMFT",
           "counselor": "LPC"},
    "CA": {"psychologist": "Psychologist", "social_worker": "Registered Social Worker",
           "counselor": "Canadian Certified Counsellor"},
}
# Real state and provincial titles where they differ from the country's usual one.
TITLE_EXCEPTIONS: Mapping[tuple[str, str], str] = {
    ("US-CA", "counselor"): "LPCC", ("US-NM", "counselor"): "LPCC",
    ("US-NY", "counselor"): "LMHC", ("US-FL", "counselor"): "LMHC",
    ("US-WA", "counselor"): "LMHC", ("US-IN", "counselor"): "LMHC",
    ("US-IL", "counselor"): "LCPC", ("US-NV", "counselor"): "LCPC",
    ("US-ID", "counselor"): "LCPC", ("US-VT", "counselor"): "LCMHC",
    ("US-WA", "social_worker"): "LICSW", ("US-VT", "social_worker"): "LICSW",
    ("CA-ON", "counselor"): "Registered Psychotherapist",
    ("CA-BC", "counselor"): "Registered Clinical Counsellor",
    ("CA-QC", "counselor"): "Psychotherapist",
    ("CA-NB", "counselor"): "Licensed Counselling Therapist",
    ("CA-QC", "social_worker"): "Social Worker",
}
CANADIAN_LETTERS: Mapping[tuple[str, str], str] = {
    ("CA-ON", "psychologist"): ", C.Psych", ("CA-BC", "psychologist"): ", R.Psych",
    ("CA-ON", "counselor"): "MA, RP", ("CA-BC", "counselor"): "MA, RCC",
    ("CA-QC", "counselor"): "MA", ("CA-QC", "social_worker"): "MSW",
}

# APA CWS counted 2.1 women per man among active psychologists in 2013 (about 68%); the 3%
# nonbinary share and the other identity rates are assumptions.
GENDER_SHARES = np.array([0.70, 0.27, 0.03])
VETERAN_RATE = np.array([0.015, 0.06, 0.02])  # by gender
IDENTITY_RATES = _shares("transgender:.01 lgbtq:.12 disability:.05 deaf_hoh:.005")
MULTIRACIAL_RATE = 0.12  # of therapists from a minority background
SECOND_LICENSE_RATE = 0.08
PSYD_SHARE = 0.4
FAITH_LISTED_RATE = 0.25

MODALITY_BASE = _shares(
    "cbt:.62 ipt:.06 psychodynamic:.17 humanistic:.24 dbt:.14 act:.20 emdr:.12 mbct:.12 cft:.07 "
    "schema:.04 family_systems:.10 solution_focused:.16 narrative:.08 behavioral_activation:.06 "
    "motivational_interviewing:.13 integrative:.34"
)
MODALITY_BY_KIND = {
    "psychologist": _shares("cbt:.15 psychodynamic:.08 act:.05 ipt:.04 schema:.03"),
    "social_worker": _shares("solution_focused:.06 family_systems:.06 "
                             "motivational_interviewing:.06 dbt:.04"),
    "mft": _shares("family_systems:.45 narrative:.08 solution_focused:.06 cbt:-.10"),
    "counselor": _shares("humanistic:.06 motivational_interviewing:.04"),
}
POPULATION_BASE = _shares(
    "children:.10 adolescents:.30 adults:.95 older_adults:.20 couples:.16 families:.10"
)
POPULATION_BY_KIND = {
    "psychologist": _shares("children:.03"),
    "social_worker": _shares("children:.05 families:.08"),
    "mft": _shares("couples:.45 families:.35"),
}
CHILD_SPECIALIST_RATE = 0.06
CHILD_SPECIALIST = _shares(
    "children:.9 adolescents:.85 adults:.25 older_adults:.01 couples:.02 families:.55"
)
CONCERN_BASE = _shares(
    "depression:.70 anxiety:.78 trauma:.36 grief:.20 relationships:.33 family:.14 stress:.40 "
    "self_esteem:.30 life_transitions:.30 ocd:.07 eating:.05 substance_use:.08 bipolar:.05 "
    "adhd:.09 anger:.08 sleep:.05 chronic_illness:.06 perinatal:.03 identity:.06 "
    "racial_trauma:.02 work:.14"
)
# What each modality is typically used for: EMDR for trauma, MI for substance use, DBT for
# emotion dysregulation, IPT for depression, grief and perinatal mood, and so on.
CONCERNS_BY_MODALITY = {
    "cbt": _shares("anxiety:.1 ocd:.1 sleep:.06 depression:.05 adhd:.04"),
    "ipt": _shares("depression:.15 grief:.2 relationships:.15 perinatal:.1 life_transitions:.1"),
    "psychodynamic": _shares("relationships:.15 self_esteem:.1 identity:.06"),
    "humanistic": _shares("self_esteem:.1 life_transitions:.08 grief:.05"),
    "dbt": _shares("anger:.2 substance_use:.12 bipolar:.15 eating:.1 trauma:.1"),
    "act": _shares("anxiety:.05 chronic_illness:.12 stress:.1 ocd:.05"),
    "emdr": _shares("trauma:.5"),
    "mbct": _shares("depression:.1 stress:.15 sleep:.05"),
    "cft": _shares("self_esteem:.15 trauma:.08 eating:.08"),
    "schema": _shares("relationships:.12 self_esteem:.1"),
    "family_systems": _shares("family:.35 relationships:.15"),
    "solution_focused": _shares("work:.12 stress:.08 life_transitions:.1"),
    "narrative": _shares("identity:.12 grief:.08 trauma:.06 racial_trauma:.06"),
    "behavioral_activation": _shares("depression:.15"),
    "motivational_interviewing": _shares("substance_use:.35"),
}
CONCERNS_BY_POPULATION = {
    "children": _shares("adhd:.25 family:.15 anxiety:.05"),
    "adolescents": _shares("adhd:.12 family:.08 self_esteem:.08 identity:.05"),
    "older_adults": _shares("grief:.15 chronic_illness:.1 life_transitions:.06"),
    "couples": _shares("relationships:.45"),
    "families": _shares("family:.35"),
}
# Mean lean per modality: CBT/DBT therapist-led and present-focused, psychodynamic past-oriented
# and client-led, humanistic and CFT warm support. Assumptions, not measured C-NIP scores.
STYLE_BY_MODALITY = {
    "cbt": _shares("directiveness:1 emotional_intensity:-.3 past_orientation:-1 challenge:.6"),
    "ipt": _shares("directiveness:.3 emotional_intensity:.2 past_orientation:-.3"),
    "psychodynamic": _shares("directiveness:-1.2 emotional_intensity:.6 past_orientation:1.6 "
                             "challenge:.2"),
    "humanistic": _shares("directiveness:-1.2 emotional_intensity:.5 past_orientation:-.2 "
                          "challenge:-1"),
    "dbt": _shares("directiveness:1 emotional_intensity:.3 past_orientation:-.8 challenge:.6"),
    "act": _shares("directiveness:.3 emotional_intensity:.2 past_orientation:-.8 challenge:.2"),
    "emdr": _shares("directiveness:.6 emotional_intensity:1 past_orientation:.8 challenge:.1"),
    "mbct": _shares("directiveness:.2 emotional_intensity:-.2 past_orientation:-.8 "
                    "challenge:-.3"),
    "cft": _shares("directiveness:-.2 emotional_intensity:.4 challenge:-1"),
    "schema": _shares("directiveness:.4 emotional_intensity:.6 past_orientation:1 challenge:.5"),
    "family_systems": _shares("emotional_intensity:.2 past_orientation:.6"),
    "solution_focused": _shares("directiveness:.8 emotional_intensity:-.4 past_orientation:-1.5 "
                                "challenge:.3"),
    "narrative": _shares("directiveness:-.8 emotional_intensity:.2 past_orientation:.3 "
                         "challenge:-.2"),
    "behavioral_activation": _shares("directiveness:1 emotional_intensity:-.3 "
                                     "past_orientation:-1 challenge:.4"),
    "motivational_interviewing": _shares("directiveness:-.6 past_orientation:-.5 challenge:-.3"),
    "integrative": _shares("directiveness:-.2 emotional_intensity:.2 past_orientation:.2"),
}
STYLE_SPREAD = 0.9
COMPETENCE_BASE = _shares(
    "black:.07 latinx:.07 east_asian:.04 south_asian:.04 southeast_asian:.03 mena:.03 "
    "indigenous:.03 pacific_islander:.01 multiracial:.06 immigrant_refugee:.12 lgbtq:.28 "
    "transgender_nonbinary:.02 deaf_hoh:.01 disability:.08 veteran:.06"
)
OWN_IDENTITY_COMPETENCE = 0.9
EXTRA_LANGUAGES = ("de", "he", "it", "pt", "ru", "pl", "uk")
EXTRA_LANGUAGE_RATE = 0.002
QUEBEC_FRENCH_FIRST = 0.6  # of Quebec therapists without a French-Canadian background
FRENCH_FIRST_ENGLISH = 0.85  # of those listing French first, the share also listing English

FORMAT_MODES = (("in_person",), ("video",), ("video", "in_person"))
FORMAT_MODE_SHARES = np.array([0.15, 0.35, 0.50])
PHONE_RATE = 0.20

# 14 weekly slots (mon am, mon pm, tue am, ... sun pm); weekday evenings are the most offered.
SLOT_WEIGHTS = np.array([1.0, 1.3] * 5 + [0.25, 0.12, 0.04, 0.04])
WINDOW_COUNT_SHARES = np.array([0.15, 0.30, 0.25, 0.18, 0.12])  # 2..6 windows
# Times in half hours since midnight: mornings start 08:00-10:00 and end by 13:00; afternoons
# start 13:00-17:30 and end by 20:00 (17:00 at weekends).
AM_STARTS, AM_START_SHARES = np.array([16, 17, 18, 19, 20]), np.array([5.0, 2, 7, 2, 4])
PM_STARTS = np.array([26, 27, 28, 30, 32, 34, 35])
PM_START_SHARES = np.array([4.0, 1, 4, 2, 3, 5, 1])
LATEST_END = np.array([26, 40] * 5 + [26, 34, 26, 34])
CLOCK = np.array([f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 30)], dtype=object)
DAY_OF_SLOT = np.array([day for day in vocab.DAYS for _ in (0, 1)], dtype=object)

ACCEPTING_RATE = 0.70
CAPACITY_SHARES = np.array([0.22, 0.28, 0.22, 0.14, 0.08, 0.06])  # 1..6 open slots
SLIDING_SCALE_RATE = 0.35
FEE_SPREAD = 0.16
# Canadian psychologists mostly follow provincial association rates, well above other therapists.
PSYCHOLOGIST_FEE_FACTOR = {"US": 1.2, "CA": 1.45}
FEE_RANGES = {"US": ((100, 250), (100, 250)), "CA": ((130, 220), (170, 260))}  # (others, psych.)
CURRENCIES = {"US": "USD", "CA": "CAD"}

INSURERS = ("bcbs", "aetna", "cigna", "united", "medicaid", "medicare", "tricare", "kaiser",
            "sun_life", "manulife", "green_shield", "canada_life", "blue_cross")
INSURER_BASE = {
    "US": _shares("bcbs:.6 aetna:.5 cigna:.45 united:.45 medicaid:.15 medicare:.12 tricare:.06"),
    "CA": _shares("sun_life:.5 manulife:.45 green_shield:.45 canada_life:.4 blue_cross:.35"),
}
INSURER_BY_KIND = {  # US only; Medicare pays MFTs and mental health counsellors from 2024
    "psychologist": _shares("medicare:.2"),
    "social_worker": _shares("medicaid:.15 medicare:.1"),
    "mft": _shares("medicare:.05"),
    "counselor": _shares("medicare:.05 medicaid:.05"),
}
KAISER = {"US-CA": 0.08, "US-WA": 0.05}
# Zhu et al. (2024): about a third of US private-practice psychotherapists take no insurance.
SELF_PAY_RATE = {"US": (0.42, 0.30), "CA": (0.55, 0.55)}  # (psychologists, others)
MAX_INSURERS = 4
POSTAL_LETTERS = "ABCEGHJKLMNPRSTVWXYZ"
KM_PER_DEGREE = 111.32
# fmt: on
