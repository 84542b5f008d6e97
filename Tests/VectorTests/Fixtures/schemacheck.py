#!/usr/bin/env python3
"""An independent JSON Schema (draft 2020-12) checker for the subset Spec/vectors-manifest.schema.json uses.

Usage: schemacheck.py SCHEMA DOCUMENT [--def NAME]   (--def: check DOCUMENT against "$defs/NAME" instead,
or with NAME[] against an array of it, e.g. treeEntry[] for a tree file). Prints one line per error and exits 1
when there are errors, 0 otherwise. Standard library only; unknown keywords are an error so that the subset
cannot silently shrink.
"""
import json
import re
import sys

KNOWN = {"$schema", "$id", "title", "description", "$defs", "type", "const", "enum", "required", "properties",
         "additionalProperties", "items", "pattern", "minimum", "minLength", "minItems", "uniqueItems", "oneOf",
         "allOf", "if", "then", "$ref", "propertyNames", "contentEncoding"}


def type_ok(value, t):
    if t == "object":
        return isinstance(value, dict)
    if t == "array":
        return isinstance(value, list)
    if t == "string":
        return isinstance(value, str)
    if t == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t == "boolean":
        return isinstance(value, bool)
    if t == "null":
        return value is None
    raise ValueError("unknown type " + t)


def same(a, b):
    return type(a) == type(b) and a == b


class Checker:
    def __init__(self, root):
        self.root = root

    def resolve(self, ref):
        if not ref.startswith("#/"):
            raise ValueError("only local $ref: " + ref)
        node = self.root
        for part in ref[2:].split("/"):
            node = node[part]
        return node

    def errors(self, schema, value, path="$"):
        out = []
        unknown = set(schema) - KNOWN
        if unknown:
            raise ValueError("unsupported keywords %s at %s" % (sorted(unknown), path))
        if "$ref" in schema:
            out += self.errors(self.resolve(schema["$ref"]), value, path)
        if "type" in schema and not type_ok(value, schema["type"]):
            return out + ["%s: not of type %s" % (path, schema["type"])]
        if "const" in schema and not same(value, schema["const"]):
            out.append("%s: not the constant %r" % (path, schema["const"]))
        if "enum" in schema and not any(same(value, e) for e in schema["enum"]):
            out.append("%s: %r not one of %r" % (path, value, schema["enum"]))
        if isinstance(value, str):
            if "pattern" in schema and not re.search(schema["pattern"], value):
                out.append("%s: %r does not match %s" % (path, value, schema["pattern"]))
            if "minLength" in schema and len(value) < schema["minLength"]:
                out.append("%s: shorter than %d" % (path, schema["minLength"]))
        if type_ok(value, "number") and "minimum" in schema and value < schema["minimum"]:
            out.append("%s: below %s" % (path, schema["minimum"]))
        if isinstance(value, list):
            if "minItems" in schema and len(value) < schema["minItems"]:
                out.append("%s: fewer than %d items" % (path, schema["minItems"]))
            if schema.get("uniqueItems"):
                seen = [json.dumps(v, sort_keys=True) for v in value]
                if len(set(seen)) != len(seen):
                    out.append("%s: items are not unique" % path)
            if "items" in schema:
                for i, v in enumerate(value):
                    out += self.errors(schema["items"], v, "%s[%d]" % (path, i))
        if isinstance(value, dict):
            for name in schema.get("required", []):
                if name not in value:
                    out.append("%s: missing required member %s" % (path, name))
            props = schema.get("properties", {})
            for k, v in value.items():
                if "propertyNames" in schema:
                    out += self.errors(schema["propertyNames"], k, "%s.<name %s>" % (path, k))
                if k in props:
                    out += self.errors(props[k], v, "%s.%s" % (path, k))
                elif "additionalProperties" in schema:
                    extra = schema["additionalProperties"]
                    if extra is False:
                        out.append("%s: member %s is not allowed" % (path, k))
                    elif isinstance(extra, dict):
                        out += self.errors(extra, v, "%s.%s" % (path, k))
        for sub in schema.get("allOf", []):
            out += self.errors(sub, value, path)
        if "oneOf" in schema:
            passing = sum(1 for sub in schema["oneOf"] if not self.errors(sub, value, path))
            if passing != 1:
                out.append("%s: matches %d of the oneOf alternatives, not exactly 1" % (path, passing))
        if "if" in schema and not self.errors(schema["if"], value, path) and "then" in schema:
            out += self.errors(schema["then"], value, path)
        return out


def main():
    args = sys.argv[1:]
    definition = None
    if "--def" in args:
        i = args.index("--def")
        definition = args[i + 1]
        del args[i:i + 2]
    schema_path, doc_path = args
    with open(schema_path) as f:
        schema = json.load(f)
    with open(doc_path) as f:
        doc = json.load(f)
    checker = Checker(schema)
    target = schema
    if definition:
        name = definition.rstrip("[]")
        target = {"$ref": "#/$defs/" + name}
        if definition.endswith("[]"):
            target = {"type": "array", "items": target}
    errors = checker.errors(target, doc)
    for e in errors:
        print(e)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
