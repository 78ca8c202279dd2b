"""ecorules — who leads on an environmental-protection matter in Shanghai (沪环督〔2024〕123号).

Public API: Engine, Matter, Resolution and the error types. Everything else is internal.
"""
from .engine import Engine
from .errors import Diagnostic, EcorulesError, EngineError, Location, MatterError, RulebookError
from .model import Department, Matter, Resolution
from .rulebook import check_rulebook, load_rulebook

__version__ = "0.1.0"

__all__ = [
    "Department",
    "Diagnostic",
    "EcorulesError",
    "Engine",
    "EngineError",
    "Location",
    "Matter",
    "MatterError",
    "Resolution",
    "RulebookError",
    "__version__",
    "check_rulebook",
    "load_rulebook",
]
