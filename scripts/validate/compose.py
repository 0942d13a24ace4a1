#!/usr/bin/python3
"""Validates Compose files: the Compose Specification's JSON schema (vendored in compose-spec/),
then the references the schema cannot see (depends_on targets, named volumes, images built here).
Usage: compose.py FILE...; exit 1 on any finding. Needs Debian's python3-yaml and python3-jsonschema."""
import json
import os
import sys

import jsonschema
import yaml

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "compose-spec", "compose-spec.json")


def check(path, validator):
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    findings = [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in validator.iter_errors(doc)]
    if findings or not isinstance(doc, dict):
        return findings or ["not a mapping"]
    services = doc.get("services") or {}
    volumes = doc.get("volumes") or {}
    built = {s.get("image") for s in services.values() if isinstance(s, dict) and "build" in s}
    if not services:
        findings.append("no services")
    for name, svc in services.items():
        deps = svc.get("depends_on") or []
        for dep in deps if isinstance(deps, list) else deps.keys():
            if dep not in services:
                findings.append(f"services/{name}/depends_on: unknown service {dep!r}")
        for vol in svc.get("volumes") or []:
            source = vol.split(":", 1)[0] if isinstance(vol, str) else vol.get("source", "")
            if source and not source.startswith(("/", ".", "~", "$")) and source not in volumes:
                findings.append(f"services/{name}/volumes: undeclared named volume {source!r}")
        if "image" not in svc and "build" not in svc:
            findings.append(f"services/{name}: neither image nor build")
        image = svc.get("image", "")
        if "build" not in svc and image.endswith(":local") and image not in built:
            findings.append(f"services/{name}: image {image!r} is neither pulled nor built by this file")
    return findings


def main(files):
    if not files:
        print("usage: compose.py FILE...", file=sys.stderr)
        return 2
    with open(SCHEMA, encoding="utf-8") as f:
        schema = json.load(f)
    validator = jsonschema.Draft7Validator(schema)
    failed = 0
    for path in files:
        findings = check(path, validator)
        for finding in findings:
            print(f"{path}: {finding}", file=sys.stderr)
        failed += bool(findings)
        print(f"compose: {path}: {'invalid' if findings else 'valid'} ({len(findings)} finding(s))")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
