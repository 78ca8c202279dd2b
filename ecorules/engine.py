"""The seam to durable_rules — the only module that imports `durable` — and the public Engine.

durable_rules keeps global state in `durable.lang`, starts timer threads in `Host.__init__`,
mutates the definitions it is given and raises when a fact matches nothing. All of that stays here:
each Engine owns a private Host with its timers off, registers deep copies of the compiled rulesets,
serialises access with its own lock, and turns durable's exceptions into ours.
"""
from __future__ import annotations

import copy
import datetime as dt
import itertools
import os
import threading
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional

from durable import engine as durable_engine

from .compiler import STAGES, Compiled
from .errors import EngineError, MatterError
from .model import Matter, Resolution
from .resolver import Resolver
from .rulebook import Rulebook, load_rulebook

_SESSION = "0"  # one session per ruleset; facts are retracted after every match, so it stays empty


class _PrivateHost(durable_engine.Host):
    """A Host without the two self-re-arming dispatch timers (a matcher needs no timers, and the
    timers would run actions on another thread)."""

    def _run(self):
        pass


class Matcher:
    """Asserts one fact against a stage's rulesets and returns the names of the rules that fired."""

    def __init__(self, compiled: Compiled):
        self._host = _PrivateHost()
        self._lock = threading.Lock()
        self._fired: list[str] = []
        self._ids = itertools.count(1)
        definitions = copy.deepcopy(compiled.definitions())  # durable deletes 'run' from what it is given
        self.stage_rulesets: dict[str, list[str]] = {stage: [] for stage in STAGES}
        for name, ruleset in definitions.items():
            for rule_name, rule in ruleset.items():
                rule["run"] = self._recorder(rule_name)
            self.stage_rulesets[name.rstrip("0123456789")].append(name)
        try:
            self._host.register_rulesets(definitions)
        except Exception as exc:  # durable raises bare Exceptions with numeric codes
            raise EngineError(f"durable_rules 拒绝了编译后的规则集：{exc}") from exc
        self._closed = False

    def _recorder(self, rule_name: str) -> Callable:
        fired = self._fired

        def run(c):  # exactly one parameter: durable treats a two-parameter action as asynchronous
            fired.append(rule_name)
        return run

    def match(self, stage: str, fact: dict) -> list[str]:
        """Rule names fired by `fact` in `stage`, each once, in durable's agenda order."""
        with self._lock:
            if self._closed:
                raise EngineError("引擎已关闭")
            fired = self._fired
            fired.clear()
            for ruleset in self.stage_rulesets[stage]:
                fact["id"] = next(self._ids)
                fact["sid"] = _SESSION
                try:
                    self._host.assert_fact(ruleset, fact)
                except durable_engine.MessageNotHandledException:
                    pass  # nothing matched: not an error for a matcher
                except Exception as exc:
                    raise EngineError(f"durable_rules 处理事项时出错：{exc}") from exc
                finally:
                    try:
                        self._host.retract_fact(ruleset, {"id": fact["id"], "sid": _SESSION})
                    except durable_engine.MessageNotHandledException:
                        pass
            result = list(dict.fromkeys(fired))  # an $or with k true branches fires k times
            fired.clear()
            fact.pop("id", None)
            fact.pop("sid", None)
            return result

    def close(self):
        """Free durable's C rulesets (a discarded Host would leak them)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for ruleset in self._host._ruleset_list:
                try:
                    durable_engine.durable_rules_engine.delete_ruleset(ruleset._handle)
                except Exception:
                    pass


def default_rules_path() -> Path:
    """The shipped Shanghai rulebook: inside the installed package, or `rules/` in a checkout."""
    packaged = Path(__file__).parent / "rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "rules"


class Engine:
    """Resolve matters against one rulebook. Safe to share between threads; build once, reuse.

    >>> engine = Engine.default()
    >>> engine.resolve({"id": "1", "title": "楼下饭店油烟熏人", "district": "黄浦区"}).lead.name
    """

    def __init__(self, rulebook: Rulebook, today: Callable[[], dt.date] = dt.date.today):
        self.rulebook = rulebook
        self._matcher = Matcher(rulebook.compiled)
        self._resolver = Resolver(rulebook, self._matcher.match, today)

    @classmethod
    def from_directory(cls, path: str | os.PathLike, **kwargs) -> "Engine":
        """Load, validate and compile a rulebook directory (RulebookError lists every problem)."""
        return cls(load_rulebook(path), **kwargs)

    @classmethod
    def default(cls, **kwargs) -> "Engine":
        """The shipped Shanghai rulebook."""
        return cls.from_directory(default_rules_path(), **kwargs)

    def match(self, stage: str, fact: dict) -> list[str]:
        """The durable rule names (`r0`, `r7_1`, …; see `rulebook.compiled.stages[stage].rules`) that an
        encoded fact fires in `stage`, each once, in agenda order. `fact` is the one encoding of a matter
        for durable: the anchor `_m: 1`, the fields, and the text features under `_f`."""
        return self._matcher.match(stage, fact)

    def resolve(self, matter: Matter | dict) -> Resolution:
        """One Resolution. A bad matter is not raised: it comes back with status `invalid` and its error."""
        return self._resolver.resolve(matter)

    def resolve_many(self, matters: Iterable[Matter | dict]) -> Iterator[Resolution]:
        """Lazily, in input order; bad matters become `invalid` results, never exceptions."""
        for matter in matters:
            yield self._resolver.resolve(matter)

    def invalid(self, matter_id: Optional[str], message: str, field: Optional[str] = None) -> Resolution:
        """An `invalid` result for input that never became a matter (e.g. a line that is not JSON)."""
        return self._resolver.invalid(matter_id, MatterError(message, field))

    @staticmethod
    def json_schema() -> dict:
        """JSON Schema of the input (Matter) and output (Resolution) types."""
        return {"Matter": Matter.model_json_schema(), "Resolution": Resolution.model_json_schema()}

    def close(self):
        self._matcher.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
