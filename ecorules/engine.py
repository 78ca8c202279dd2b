"""The seam to durable_rules — the only module that imports `durable` — and the public Engine.

durable_rules evaluates every compiled condition. Two matchers talk to it, and both answer alike
(tests/test_matchers.py compares them on every fixture and ticket set, byte for byte):

* `direct` (the default): durable's C functions (`durable_rules_engine`) called as they are. Per
  matter and stage the fact is written as JSON once and asserted into each of the stage's rulesets;
  the rules that fired are read off the names at the head of durable's action frames (the frames
  are never decoded), and the fact is retracted. No Host, no Python callbacks, no timer threads.
* `reference`: the same rulesets on a private durable `Host` (timers off) with one recording action
  per rule — durable's own Python API, kept to check the direct matcher against and for benchmarks.

durable_rules keeps global state in `durable.lang`, starts timer threads in `Host.__init__`, mutates
the definitions it is given and raises when a fact matches nothing; all of that stays here. Each
matcher serialises access with its own lock (a session shared between threads loses results),
uses one session per ruleset emptied after every matter, and turns durable's errors into ours.
"""
from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
import os
import threading
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional

import durable_rules_engine as durable_c
from durable import engine as durable_engine

from .compiler import LIMIT_STACK, STAGES, Compiled
from .errors import EngineError, MatterError
from .facts import FEATURES
from .model import Matter, Resolution
from .resolver import Resolver
from .rulebook import Rulebook, load_rulebook

__all__ = ["Engine", "MATCHERS", "default_rules_path"]

MATCHERS = ("direct", "reference")
_SESSION = "0"  # one session per ruleset; facts are retracted after every match, so it stays empty
# durable_rules_engine.assert_fact's status codes (durable's own Host reads them the same way)
_HANDLED, _NOT_HANDLED = 0, 1
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode  # built once, not per call
_assert_fact = durable_c.assert_fact
_first_action = durable_c.start_action_for_state
_next_action = durable_c.complete_and_start_action
_retract_fact = durable_c.retract_fact


class _PrivateHost(durable_engine.Host):
    """A Host without the two self-re-arming dispatch timers (a matcher needs no timers, and the
    timers would run actions on another thread)."""

    def _run(self):
        pass


class _ReferenceMatcher:
    """durable's Python API: a private Host, one recording action per rule."""

    def __init__(self, compiled: Compiled):
        self._host = _PrivateHost()
        self._lock = threading.Lock()
        self._fired: list[str] = []
        self._ids = itertools.count(1)
        definitions = copy.deepcopy(compiled.definitions())  # durable deletes 'run' from what it is given
        self._stage_rulesets: dict[str, list[str]] = {stage: [] for stage in STAGES}
        for name, ruleset in definitions.items():
            for rule_name, rule in ruleset.items():
                rule["run"] = self._recorder(rule_name)
            self._stage_rulesets[name.rstrip("0123456789")].append(name)
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
        fact = dict(fact)  # id / sid are added for durable; the caller's fact stays as it was
        with self._lock:
            if self._closed:
                raise EngineError("引擎已关闭")
            fired = self._fired
            fired.clear()
            for ruleset in self._stage_rulesets[stage]:
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
            return result

    def close(self):
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for ruleset in self._host._ruleset_list:
                try:
                    durable_c.delete_ruleset(ruleset._handle)
                except Exception:
                    pass


class _DirectMatcher:
    """durable's C functions, called as durable's own Host calls them, minus the Host."""

    def __init__(self, compiled: Compiled):
        self._lock = threading.Lock()
        self._handles: list[int] = []
        self._stages: dict[str, tuple] = {}
        try:
            for stage in STAGES:
                packed = compiled.stages[stage]
                handles = tuple(self._create(f"{stage}{i}", ruleset) for i, ruleset in enumerate(packed.rulesets))
                # fewer rulesets for a stage whose text features, counted per fact, leave room (compiler.merge)
                merged = tuple(self._create(f"{stage}_merged{i}", ruleset) for i, (ruleset, _) in enumerate(packed.merged))
                loads = tuple(load for _, load in packed.merged)
                # below `quick` features a fact fits every merged ruleset whichever features they are
                quick = min(((LIMIT_STACK - load.static) // max(load.most, 1) for load in loads), default=0)
                self._stages[stage] = (handles, _projection(packed.paths, packed.presence), merged, loads, quick)
        except Exception as exc:
            self._free()
            raise EngineError(f"durable_rules 拒绝了编译后的规则集：{exc}") from exc
        self._retract = _ENCODE({"id": 1, "sid": _SESSION})
        self._closed = False

    def _create(self, name: str, ruleset: dict) -> int:
        handle = durable_c.create_ruleset(name, json.dumps(ruleset, ensure_ascii=False))  # durable never sees our dicts
        self._handles.append(handle)
        return handle

    def match(self, stage: str, fact: dict) -> list[str]:
        handles, plan, merged, loads, quick = self._stages[stage]
        if merged:
            features = fact.get(FEATURES) or ()
            if len(features) <= quick or all(load.bound(features) <= LIMIT_STACK for load in loads):
                handles = merged
        # one encoding per matter and stage, shared by the stage's rulesets (each its own session); only the
        # fields the stage's rules test are sent: durable parses the fact and writes it into every action frame
        text = '{"id":1,"sid":"0",' + _fields(fact, plan) + "}"
        fired: list[str] = []
        with self._lock:
            if self._closed:
                raise EngineError("引擎已关闭")
            for handle in handles:
                try:
                    status, state = _assert_fact(handle, text)
                    if status == _HANDLED:
                        try:
                            frame = _first_action(handle, state)
                            if frame is not None:
                                frame = frame[1]
                                while frame is not None:
                                    # a frame reads {"<rule name>":{"m":{…}}}: the name is all a matcher needs
                                    fired.append(frame[2:frame.index('"', 2)])
                                    frame = _next_action(handle, state)
                        except BaseException:
                            durable_c.abandon_action(handle, state)  # release the session's lease, as durable's Host does
                            raise
                    elif status != _NOT_HANDLED:  # observed / deferred: the session is not empty, never expected
                        raise EngineError(f"durable_rules 处理事项时出错：状态 {status}")
                except EngineError:
                    raise
                except Exception as exc:
                    raise EngineError(f"durable_rules 处理事项时出错：{exc}") from exc
                finally:
                    try:
                        _retract_fact(handle, self._retract)
                    except Exception:
                        pass
        return fired if len(fired) < 2 else list(dict.fromkeys(fired))  # an $or with k true branches fires k times

    def close(self):
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._free()

    def _free(self):
        for handle in self._handles:
            try:
                durable_c.delete_ruleset(handle)
            except Exception:
                pass
        self._handles = []


def _projection(paths, presence=frozenset()) -> tuple:
    """The fields a stage's conditions name, as a plan for `_fields`: ((key, '"key":', sub-plan, or None for the
    whole value, or _PRESENT for a field tested only for being there), …). durable parses every byte it is sent
    and copies the fact into every action frame: a title only tested with `$ex` (a negated `contains`) goes as 1."""
    tree: dict = {}
    for path in sorted(paths, key=len):
        node, parts = tree, path.split(".")
        if parts[0] == FEATURES:
            parts = parts[:1]  # a stage's features are computed for that stage: all of them are read
        for depth, part in enumerate(parts):
            if part in node and node[part] is None:
                break  # a shorter path already takes the whole value
            if depth == len(parts) - 1:
                node[part] = None
            else:
                node = node.setdefault(part, {})

    def plan(node: dict, above: str) -> tuple:
        return tuple((key, _text(key) + ":", _FEATURE_SET if above + key == FEATURES else
                      (_PRESENT if above + key in presence else None) if sub is None
                      else plan(sub, above + key + ".")) for key, sub in node.items())
    return plan(tree, "")


def _encode(value: dict, plan: Optional[tuple]) -> str:
    """`json.dumps(value projected onto plan, ensure_ascii=False)` (None: all of value), in one pass.

    The fact holds text, numbers, true/false and objects of them (facts.py shapes every value); anything else
    is left to json. The same text as json writes (tests/test_matchers.py checks it on every fixture)."""
    return "{" + _fields(value, plan) + "}"


def _fields(value: dict, plan: Optional[tuple]) -> str:
    parts: list[str] = []
    append = parts.append
    if plan is None:
        for key, item in value.items():
            cls = item.__class__
            if cls is int:  # the text features: {"f12": 1, …}
                append(_text(key) + ":" + int.__repr__(item))
            elif cls is str:
                append(_text(key) + ":" + _text(item))
            else:
                append(_text(key) + ":" + _value(item, None))
    else:
        for key, label, sub in plan:
            item = value.get(key, _ABSENT)
            if item is not _ABSENT:
                cls = item.__class__
                if sub is _FEATURE_SET and cls is dict:
                    # {"f12": 1, …}: the compiler's feature ids (f + digits) need no escaping, every value is 1
                    append(label + ('{"' + '":1,"'.join(item) + '":1}' if item else "{}"))
                elif sub is _PRESENT:  # only its being there is tested: any value will do (an object goes whole)
                    append(label + ("1" if cls is not dict else _value(item, None)))
                elif cls is str:  # the common cases first, without a call
                    append(label + _text(item))
                elif cls is int:
                    append(label + int.__repr__(item))
                else:
                    append(label + _value(item, sub))
    return ",".join(parts)


def _value(item, plan: Optional[tuple]) -> str:
    cls = item.__class__
    if cls is str:
        return _text(item)
    if cls is int:
        return int.__repr__(item)
    if cls is dict:
        return "{" + _fields(item, plan) + "}"
    if cls is bool:
        return "true" if item else "false"
    return _ENCODE(item)


_ABSENT = object()
_PRESENT = object()  # a plan's mark for a field tested only for being there
_FEATURE_SET = object()  # a plan's mark for the text features (facts.FEATURES)
_text = json.encoder.encode_basestring  # json's own C string writer (ensure_ascii=False)


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

    def __init__(self, rulebook: Rulebook, today: Callable[[], dt.date] = dt.date.today, matcher: str = "direct"):
        """`matcher`: "direct" (durable's C functions) or "reference" (durable's Python Host; for tests and
        benchmarks, which compare the two)."""
        if matcher not in MATCHERS:
            raise ValueError(f"matcher must be one of {MATCHERS}, not {matcher!r}")
        self.rulebook = rulebook
        self._matcher = _DirectMatcher(rulebook.compiled) if matcher == "direct" else _ReferenceMatcher(rulebook.compiled)
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
        for durable: the anchor `_m: 1`, the fields, and the text features under `_f`; it is not changed."""
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
