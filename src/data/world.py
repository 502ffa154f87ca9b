"""The knowledge graph of people and their biographies.

Two populations share one graph:
- parametric people: their parametric-group facts are written into the knowledge-injection corpus
  (so they end up in the weights); their contextual-group facts are only shown in prompts (Comp).
- contextual people: new names with contextual-group facts only, seen only in prompts (Ctx).
Every relation is functional (one object per subject), so every question has one answer.
Person relations link people of the same population: inverse pairs through one random cycle per
pair (no fixed points, no 2-cycles), symmetric relations through a random perfect matching.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from faker import Faker

from .relations import BY_NAME, CONTEXTUAL, FAKER_SOURCES, PARAMETRIC, POOLS, RELATIONS, Relation


@dataclass
class World:
    parametric_people: list[str]
    contextual_people: list[str]
    relations: list[Relation] = field(default_factory=lambda: list(RELATIONS))  # the active ones
    templates: int = 3  # sentence templates per relation used when rendering text
    facts: dict[tuple[str, str], str] = field(default_factory=dict)  # (subject, relation) -> object

    def obj(self, subject: str, relation: str) -> str | None:
        return self.facts.get((subject, relation))

    def facts_of(self, person: str, group: str) -> list[tuple[str, str, str]]:
        return [(person, r.name, self.facts[(person, r.name)]) for r in self.relations
                if r.group == group and (person, r.name) in self.facts]

    def walk(self, start: str, path: list[str]) -> list[str] | None:
        """Entities e0..eN along `path`, or None if a hop is undefined or a person repeats."""
        chain = [start]
        for rel in path:
            nxt = self.obj(chain[-1], rel)
            if nxt is None or (BY_NAME[rel].person and nxt in chain):
                return None
            chain.append(nxt)
        return chain


def _unique(draw, n: int, what: str, limit: int = 200, finite: bool = False) -> list[str]:
    """n distinct values from `draw()`; a clear error if the provider runs dry. A `finite` provider (a
    fixed list, such as Faker's languages) gives all it has when that is fewer than n."""
    out: dict[str, None] = {}
    tries = stale = 0
    while len(out) < n:
        tries += 1
        if finite and stale > 5000:  # no new value in 5000 draws: the list is exhausted
            return list(out)
        if tries > n * limit:
            raise ValueError(f"could only draw {len(out)} distinct {what} values, {n} asked; "
                             f"lower world.value_pool_size or the number of people")
        v = draw()
        if v and v not in out and all(ch not in v for ch in ",()\n"):
            out[v] = None
            stale = 0
        else:
            stale += 1
    return list(out)


def _value_pools(fake: Faker, rng: random.Random, size: int) -> dict[str, list[str]]:
    cities = _unique(fake.city, size, "city")
    draws = {
        "book": lambda: fake.catch_phrase().title(),
        "language": fake.language_name,
        "university": lambda: f"University of {rng.choice(cities)}",
        "job": fake.job,
        "company": fake.company,
        "address": fake.street_address,
        "country": fake.country,
    }
    # Faker has 182 languages and 243 countries: a larger pool size takes them all
    pools = {k: _unique(d, size, k, finite=k in ("language", "country")) for k, d in draws.items()}
    pools["city"] = cities
    return pools


def _date(rng: random.Random, lo: int, hi: int) -> str:
    months = ["January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December"]
    return f"{rng.choice(months)} {rng.randint(1, 28)}, {rng.randint(lo, hi)}"


def active_relations(names) -> list[Relation]:
    """`world.relations` ("all" or a list of names) as Relation objects, in the fixed order."""
    return list(RELATIONS) if names == "all" else [r for r in RELATIONS if r.name in set(names)]


def build_world(seed: int, n_parametric: int, n_contextual: int, value_pool_size: int,
                relations="all", templates: int = 3, avoid: frozenset[str] = frozenset()) -> World:
    """A world; `avoid`: names it must not use (another world's people)."""
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)

    def name() -> str:
        n = f"{fake.first_name()} {fake.last_name()}"
        return "" if n in avoid else n  # _unique skips empty draws
    names = _unique(name, n_parametric + n_contextual, "person name")
    rng.shuffle(names)
    world = World(names[:n_parametric], names[n_parametric:], active_relations(relations), templates)
    pools = {**POOLS, **_value_pools(fake, rng, value_pool_size)}

    def link_people(people: list[str], relations: list[Relation]) -> None:
        done: set[str] = set()
        for r in relations:
            if not r.person or r.name in done:
                continue
            order = people[:]
            rng.shuffle(order)
            if r.symmetric:  # perfect matching; with an odd count one person has no partner
                for a, b in zip(order[0::2], order[1::2]):
                    world.facts[(a, r.name)], world.facts[(b, r.name)] = b, a
            else:  # one cycle: r(x) = next(x); the inverse, when in this population, points back
                inv = r.inverse if r.inverse in {x.name for x in relations} else None
                for a, b in zip(order, order[1:] + order[:1]):
                    world.facts[(a, r.name)] = b
                    if inv:
                        world.facts[(b, inv)] = a
                if inv:
                    done.add(inv)
            done.add(r.name)

    def give_attributes(people: list[str], relations: list[Relation]) -> None:
        for p in people:
            first, last = p.lower().split(" ", 1)
            for r in relations:
                if r.person:
                    continue
                if r.values == "date":
                    v = _date(rng, 1900, 1960) if r.name == "birth_date" else _date(rng, 1990, 2020)
                elif r.values == "email":
                    v = f"{first}.{last.replace(' ', '')}@{rng.choice(['mail', 'post', 'inbox'])}.com"
                elif r.values == "phone":
                    v = f"{rng.randint(200, 999)}-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"
                else:
                    v = rng.choice(pools[r.values])
                world.facts[(p, r.name)] = v

    all_rel = world.relations
    ctx_rel = [r for r in all_rel if r.group == CONTEXTUAL]
    link_people(world.parametric_people, all_rel)
    give_attributes(world.parametric_people, all_rel)
    link_people(world.contextual_people, ctx_rel)
    give_attributes(world.contextual_people, ctx_rel)
    assert set(FAKER_SOURCES) >= {r.values for r in RELATIONS if r.values and r.values not in POOLS}
    return world


def sentence(relation: str, subject: str, obj: str, template: int = 0) -> str:
    return BY_NAME[relation].templates[template].format(s=subject, o=obj)


def render_paragraph(facts: list[tuple[str, str, str]], rng: random.Random, templates: int = 3) -> str:
    """One sentence per fact, each with a random one of the first `templates` templates, in a random order."""
    sents = [sentence(r, s, o, rng.randrange(templates)) for s, r, o in facts]
    rng.shuffle(sents)
    return " ".join(sents)


def injection_corpus(world: World, renderings: int, seed: int) -> list[dict]:
    """`renderings` different biographies per parametric person (parametric facts only)."""
    rng = random.Random(seed)
    rows = []
    for k in range(renderings):
        for p in world.parametric_people:
            rows.append({"person": p, "rendering": k,
                         "text": render_paragraph(world.facts_of(p, PARAMETRIC), rng, world.templates)})
    return rows
