"""pydantic's validation errors of a rule file → diagnostics at `file:line:col`, in Chinese, with suggestions
(E104 unknown key, E105 bad value, E106 missing key). One job: the schema half of the loader's reporting."""
from __future__ import annotations

import datetime as dt
import re
from typing import Optional

from pydantic import BaseModel, ValidationError

from ._yaml import YamlDoc
from .errors import Diagnostic, suggest


def _nested_model(model: type[BaseModel], key) -> Optional[type[BaseModel]]:
    """The model describing the value under `key` of `model` (through list/Optional/dict)."""
    for name, info in model.model_fields.items():
        if key not in (name, info.alias):
            continue
        stack = [info.annotation]
        while stack:
            current = stack.pop()
            if isinstance(current, type) and issubclass(current, BaseModel):
                return current
            stack.extend(getattr(current, "__args__", ()))
    return None


def _allowed_keys(model: type[BaseModel], data_path: tuple) -> list[str]:
    current = model
    for part in data_path[:-1]:
        if isinstance(part, int):
            continue
        nested = _nested_model(current, part) if current else None
        if nested is None:
            # dict[str, Model] values (e.g. districts[].names.jxw) keep the model found so far
            continue
        current = nested
    return [info.alias or name for name, info in current.model_fields.items()] if current else []


_MESSAGES = {
    "string_type": "应为文字", "int_type": "应为整数", "int_parsing": "应为整数", "int_from_float": "应为整数",
    "bool_type": "应为 true 或 false", "bool_parsing": "应为 true 或 false", "list_type": "应为列表",
    "dict_type": "应为映射（键: 值）", "model_type": "应为映射（键: 值）", "date_type": "应为日期 YYYY-MM-DD",
    "date_parsing": "应为日期 YYYY-MM-DD", "date_from_datetime_parsing": "应为日期 YYYY-MM-DD",
    "string_too_short": "不能为空", "too_short": "不能为空", "greater_than_equal": "太小",
    "less_than_equal": "太大", "string_pattern_mismatch": "格式不符",
}


def schema_diagnostics(doc: YamlDoc, model: type[BaseModel], error: ValidationError) -> list[Diagnostic]:
    found: dict[tuple, Diagnostic] = {}
    for item in error.errors():
        loc = item["loc"]
        data_path: tuple = ()
        node = doc.data
        for part in loc:  # keep the part of loc that exists in the data (drop union-member tags)
            if isinstance(node, dict) and part in node:
                node = node[part]
                data_path += (part,)
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                node = node[part]
                data_path += (part,)
            elif item["type"] in ("missing", "extra_forbidden") and part == loc[-1]:
                data_path += (part,)
                break
        key = str(data_path[-1]) if data_path else ""
        if item["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, data_path)
            diag = Diagnostic("E104", f"未知的键 '{key}'", doc.where(data_path, key=True),
                              suggestion=suggest(key, allowed, "键"))
        elif item["type"] == "missing":
            diag = Diagnostic("E106", f"缺少必填的键 '{key}'", doc.where(data_path[:-1]),
                              suggestion=f"在此处添加 '{key}:'。")
        else:
            value = item.get("input")
            if item["type"] == "literal_error" and isinstance(value, dict):
                continue  # a union member that does not apply (e.g. district: a template, not none/shared)
            text = _MESSAGES.get(item["type"])
            suggestion = None
            if item["type"] == "literal_error":
                allowed = re.findall(r"'([^']*)'", str(item.get("ctx", {}).get("expected", "")))
                text = "应为 " + "、".join(allowed) + " 之一"
                if isinstance(value, bool):
                    suggestion = f'YAML 把不带引号的 yes/no/on/off 读成 true/false，请加引号，如 "{"yes" if value else "no"}"。'
                elif isinstance(value, str):
                    suggestion = suggest(value, allowed)
            if item["type"] == "string_pattern_mismatch":
                text = f"格式不符（须匹配 {item.get('ctx', {}).get('pattern')}）"
            if isinstance(value, dt.datetime):
                text, shown = "应为日期 YYYY-MM-DD（不带时间）", f"，得到 {value.isoformat(sep=' ')}"
            else:
                shown = f"，得到 {value!r}" if isinstance(value, (str, int, float, bool, dt.date)) else ""
            diag = Diagnostic("E105", f"'{key}' 的值无效：{text or item['msg']}{shown}", doc.where(data_path),
                              suggestion=suggestion)
        found.setdefault(data_path, diag)
    return list(found.values())
