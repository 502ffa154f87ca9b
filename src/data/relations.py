"""The 39 relations of the biography world (paper.md, "The synthetic world").

Each relation has: its group (parametric facts are injected into the weights, contextual facts are
only ever shown in prompts), whether its object is a person, its symmetry or inverse, a noun used
to build questions ("the <noun> of X"), and three sentence templates used to render biographies
(in nine relations the third names the object first, "Y is the boss of X.", as several of the authors' do).
The first template is also the canonical sentence of a chain-of-thought step; it names the subject
first, so a model writing the chain states the known entity and the relation before recalling the
new entity.
Attribute values come from `values`: a Faker provider name or a fixed pool written here.
"""
from __future__ import annotations

from dataclasses import dataclass

PARAMETRIC = "parametric"
CONTEXTUAL = "contextual"


@dataclass(frozen=True)
class Relation:
    name: str
    group: str
    noun: str
    templates: tuple[str, str, str]  # with {s} (subject) and {o} (object); [0] is canonical
    person: bool = False
    symmetric: bool = False
    inverse: str | None = None  # the relation that states the same fact from the object's side
    values: str = ""  # attribute relations: key into ATTRIBUTE_SOURCES


def _r(name, group, noun, paraphrases, **kw) -> Relation:
    """The first template is always "{s}'s <noun> is {o}.": the chain-of-thought sentence names the
    relation with the same word as the question, the only bridge a model trained from scratch has to
    a relation it never saw in a question (zero-shot). Two paraphrases follow."""
    canonical = "{s}'s " + noun + " is {o}."
    rest = [t for t in paraphrases if t != canonical]
    return Relation(name, group, noun, (canonical, rest[0], rest[1]), **kw)


P, C = PARAMETRIC, CONTEXTUAL
RELATIONS: tuple[Relation, ...] = (
    # ---- parametric group (20) ----
    _r("boss", P, "boss", ["{s}'s boss is {o}.", "{s} reports to {o}.", "{o} is the boss of {s}."],
       person=True, inverse="boss_of"),
    _r("child", P, "child", ["{s}'s child is {o}.", "{s} has a child named {o}.", "{o} is a child of {s}."],
       person=True, inverse="parent"),
    _r("classmate", P, "classmate", ["{s}'s classmate is {o}.", "{s} went to school with {o}.",
                                     "{s} shared a classroom with {o}."], person=True, symmetric=True),
    _r("influenced_by", P, "idol", ["{s}'s idol is {o}.", "{s} was influenced by {o}.",
                                    "{s} looks up to {o}."], person=True, inverse="influence"),
    _r("mentoring", P, "mentee", ["{s}'s mentee is {o}.", "{s} mentors {o}.",
                                  "{o} is a mentee of {s}."], person=True, inverse="mentored_by"),
    _r("roommate", P, "roommate", ["{s}'s roommate is {o}.", "{s} shares an apartment with {o}.",
                                   "{s} lives together with {o}."], person=True, symmetric=True),
    _r("died_on", P, "date of death", ["{s} died on {o}.", "{s} passed away on {o}.",
                                       "The death of {s} came on {o}."], values="date"),
    _r("pet", P, "pet", ["{s} owns a pet {o}.", "{s} takes care of a {o}.", "{s} keeps a {o} at home."],
       values="pet"),
    _r("wrote", P, "book", ["{s} wrote the book {o}.", "{s} is the author of {o}.", "{o} was written by {s}."],
       values="book"),
    _r("email", P, "email address", ["{s} uses the email address {o}.", "{s} can be reached at {o}.",
                                     "The email of {s} is {o}."], values="email"),
    _r("hobby", P, "hobby", ["{s} enjoys {o}.", "{s} spends free time on {o}.", "{s} has a passion for {o}."],
       values="hobby"),
    _r("first_language", P, "first language", ["{s} grew up speaking {o}.", "{s} speaks {o} as a first language.",
                                               "The native tongue of {s} is {o}."],
       values="language"),
    _r("university", P, "university", ["{s} graduated from {o}.", "{s} studied at {o}.",
                                       "{s} holds a degree from {o}."], values="university"),
    _r("birth_date", P, "date of birth", ["{s} was born on {o}.", "{s} came into the world on {o}.",
                                          "The birthday of {s} is {o}."], values="date"),
    _r("service", P, "service", ["{s} served in {o}.", "{s} did a term of service with {o}.",
                                 "{s} volunteered for {o}."], values="service"),
    _r("occupation", P, "occupation", ["{s} works as a {o}.", "{s} earns a living as a {o}.",
                                       "By profession, {s} is a {o}."], values="job"),
    _r("known_for", P, "claim to fame", ["{s} is known for {o}.", "{s} became famous for {o}.",
                                         "People remember {s} for {o}."], values="achievement"),
    _r("died_in", P, "place of death", ["{s} died in {o}.", "{s} spent the last days in {o}.",
                                        "The life of {s} ended in {o}."], values="city"),
    _r("phone", P, "phone number", ["{s} has the phone number {o}.", "{s} answers calls at {o}.",
                                    "The phone of {s} is {o}."], values="phone"),
    _r("favorite_food", P, "favorite food", ["{s} loves eating {o}.", "The favorite food of {s} is {o}.",
                                             "{s} always orders {o}."], values="food"),
    # ---- contextual group (19) ----
    _r("best_friend", C, "best friend", ["{s}'s best friend is {o}.", "{s} is closest to {o}.",
                                         "{s} trusts {o} more than anyone."], person=True, symmetric=True),
    _r("boss_of", C, "subordinate", ["{s}'s subordinate is {o}.", "{s} manages {o}.",
                                     "{s} supervises {o}."], person=True, inverse="boss"),
    _r("colleague", C, "colleague", ["{s}'s colleague is {o}.", "{s} works alongside {o}.",
                                     "{o} is a colleague of {s}."], person=True, symmetric=True),
    _r("influence", C, "admirer", ["{s}'s admirer is {o}.", "{s} influenced {o}.",
                                   "{s} inspired {o}."], person=True, inverse="influenced_by"),
    _r("mentored_by", C, "mentor", ["{s}'s mentor is {o}.", "{s} is mentored by {o}.",
                                    "{s} learns from {o}."], person=True, inverse="mentoring"),
    _r("neighbor", C, "neighbor", ["{s}'s neighbor is {o}.", "{s} lives next door to {o}.",
                                   "{s} shares a fence with {o}."], person=True, symmetric=True),
    _r("parent", C, "parent", ["{s}'s parent is {o}.", "{s} was raised by {o}.",
                                "{s} is the child of {o}."], person=True, inverse="child"),
    _r("rival", C, "rival", ["{s}'s rival is {o}.", "{s} competes with {o}.",
                             "{s} has a long rivalry with {o}."], person=True, symmetric=True),
    _r("sibling", C, "sibling", ["{s}'s sibling is {o}.", "{s} grew up with the sibling {o}.",
                                 "{s} shares parents with {o}."], person=True, symmetric=True),
    _r("spouse", C, "spouse", ["{s}'s spouse is {o}.", "{s} is married to {o}.", "{o} is the spouse of {s}."],
       person=True, symmetric=True),
    _r("leader_of", C, "organization", ["{s} leads {o}.", "{s} is the head of {o}.", "{s} runs {o}."],
       values="company"),
    _r("birth_place", C, "birthplace", ["{s} was born in {o}.", "{s} comes from {o}.",
                                        "{o} is the hometown of {s}."], values="city"),
    _r("address", C, "address", ["{s} lives at {o}.", "{s} has the home address {o}.",
                                 "Mail for {s} goes to {o}."], values="address"),
    _r("awards", C, "award", ["{s} received the {o}.", "{s} was honored with the {o}.",
                              "The {o} went to {s}."], values="award"),
    _r("lived_in", C, "former home", ["{s} once lived in {o}.", "{s} used to reside in {o}.",
                                      "{s} spent years living in {o}."], values="city"),
    _r("philanthropy", C, "charity", ["{s} donates to {o}.", "{s} supports the charity {o}.",
                                      "{s} raises money for {o}."], values="charity"),
    _r("nationality", C, "country", ["{s} is a citizen of {o}.", "{s} holds the nationality of {o}.",
                                     "The passport of {s} is from {o}."], values="country"),
    _r("major", C, "major", ["{s} majored in {o}.", "{s} chose {o} as a major.", "{s} studied {o} in college."],
       values="major"),
    _r("worked_at", C, "employer", ["{s} worked at {o}.", "{s} was employed by {o}.",
                                    "{o} employed {s}."], values="company"),
)

BY_NAME: dict[str, Relation] = {r.name: r for r in RELATIONS}

# Fixed pools for attributes Faker has no provider for. Faker-backed sources are drawn in world.py.
POOLS: dict[str, list[str]] = {
    "pet": ["cat", "dog", "parrot", "rabbit", "hamster", "turtle", "goldfish", "ferret", "canary",
            "iguana", "horse", "goat", "pony", "gecko", "hedgehog", "chinchilla"],
    "hobby": ["chess", "hiking", "painting", "gardening", "fishing", "pottery", "cycling", "knitting",
              "photography", "rowing", "baking", "birdwatching", "surfing", "archery", "juggling",
              "sailing", "calligraphy", "origami", "climbing", "fencing"],
    "service": ["the Navy", "the Army", "the Air Force", "the Coast Guard", "the Peace Corps",
                "the Red Cross", "the Fire Brigade", "the Marine Corps", "the National Guard",
                "the Forest Service", "the Border Patrol", "the Rescue Corps"],
    "achievement": ["a bridge design", "a vaccine trial", "a jazz album", "a chess opening",
                    "a solar panel", "a mountain rescue", "a cookbook", "a robot arm", "a film score",
                    "a rose variety", "a tax reform", "a comet discovery", "a marathon record",
                    "a coding language", "a peace treaty", "a fossil find"],
    "food": ["pizza", "sushi", "tacos", "ramen", "paella", "curry", "lasagna", "dumplings", "falafel",
             "pancakes", "goulash", "risotto", "burritos", "kebab", "pho", "gnocchi", "pierogi", "chili"],
    "award": ["Golden Star", "Silver Laurel", "Bronze Medal", "Nobel Prize", "Pulitzer Prize",
              "Crystal Globe", "Iron Cross", "Blue Ribbon", "Purple Heart", "Emerald Award",
              "Honor Cup", "Platinum Key", "Copper Shield", "Oak Leaf Prize"],
    "charity": ["Save the Whales", "Clean Water Fund", "Books for Kids", "Open Hearts", "Green Earth",
                "Food for All", "Hope House", "Safe Streets", "Bright Futures", "Warm Coats",
                "Wildlife Trust", "Art for Schools"],
    "major": ["physics", "history", "biology", "economics", "chemistry", "philosophy", "mathematics",
              "linguistics", "architecture", "psychology", "geology", "music", "sociology", "law",
              "astronomy", "nursing"],
}
# Faker-backed sources (see world.py) and how many distinct values each pool gets.
FAKER_SOURCES = ("date", "book", "email", "language", "university", "job", "city", "phone",
                 "company", "address", "country")


def relations_of(group: str, names: list[str] | None = None) -> list[Relation]:
    """Relations of one group, optionally restricted to `names`, in a fixed order."""
    return [r for r in RELATIONS if r.group == group and (names is None or r.name in names)]


def _check() -> None:
    """The invariants the paper states; run at import so a bad edit fails loudly."""
    assert len(RELATIONS) == 39 and len(BY_NAME) == 39
    assert sum(r.group == PARAMETRIC for r in RELATIONS) == 20
    for r in RELATIONS:
        assert all("{s}" in t and "{o}" in t for t in r.templates), r.name
        assert r.templates[0] == "{s}'s " + r.noun + " is {o}.", r.name
        if r.inverse:
            inv = BY_NAME[r.inverse]
            assert inv.inverse == r.name and inv.person and r.person and inv.group != r.group, r.name
        if not r.person:
            assert r.values in POOLS or r.values in FAKER_SOURCES, r.name


_check()
