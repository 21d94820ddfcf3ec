#!/usr/bin/env python3
"""`make new-function NAME=<binary>`: scaffolds a function package and its template.yaml entry,
then runs the generator, so the package and the entry are all there is to write by hand.

NAME is the binary, its kind its first word:

- http-<get|post|put|delete>-<what>: a route under /api/billing/account/{organization_id}/<what>
  (GET for members, the others for owners and billing admins, POST with an Idempotency-Key), or
  with http-<method>-admin-<what> under /api/billing/admin/<what> for operators;
- cron-<what>: a scheduled job; sqs-<what>: the consumer of a new queue (with its dead-letter
  queue and alarm); stream-<what>: a consumer of the table's stream; event-<what>: a subscriber
  of domain events.

Files come from infra/gen/templates/<kind>/ ({{name}}, {{crate}}, {{Logical}}, {{Stem}},
{{METHOD}}, {{path}}, {{access}}, {{table_policy}} filled in); the template entry goes after
the last function of the same kind.
"""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
TEMPLATES = pathlib.Path(__file__).resolve().parent / "templates"
TEMPLATE_YAML = ROOT / "template.yaml"

NAME = re.compile(r"^(http-(get|post|put|delete)|cron|sqs|stream|event)-[a-z0-9]+(-[a-z0-9]+)*$")


def die(message: str):
    print(f"new-function: {message}", file=sys.stderr)
    sys.exit(1)


def pascal(words: list[str]) -> str:
    return "".join(w[:1].upper() + w[1:] for w in words)


def variables(name: str) -> dict[str, str]:
    words = name.split("-")
    kind = words[0]
    values = {"name": name, "crate": name.replace("-", "_"), "Logical": pascal(words), "kind": kind}
    if kind == "http":
        method, rest = words[1], words[2:]
        admin = rest[0] == "admin" and len(rest) > 1
        what = "-".join(rest[1:] if admin else rest)
        if admin:
            path, access, lib = f"/api/billing/admin/{what}", "admin", "admin"
        elif method == "get":
            path, access, lib = f"/api/billing/account/{{organization_id}}/{what}", "member", "member"
        else:
            path, access = f"/api/billing/account/{{organization_id}}/{what}", "billing"
            lib = "billing-post" if method == "post" else "billing"
        values |= {
            "METHOD": method.upper(),
            "path": path,
            "access": access,
            "lib": f"lib.{lib}.rs",
            "table_policy": "DynamoDBReadPolicy" if method == "get" else "DynamoDBCrudPolicy",
            "Stem": pascal(rest),
        }
    else:
        values |= {"lib": "lib.rs", "Stem": pascal(words[1:])}
    return values


def fill(text: str, values: dict[str, str]) -> str:
    def one(m: re.Match) -> str:
        key = m.group(1)
        if key not in values:
            die(f"template placeholder {{{{{key}}}}} has no value")
        return values[key]

    return re.sub(r"\{\{(\w+)\}\}", one, text)


def same_kind(binary: str, values: dict[str, str]) -> bool:
    if values["kind"] != "http":
        return binary.startswith(values["kind"] + "-")
    admin = values["access"] == "admin"
    return binary.startswith("http-") and (re.match(r"^http-[a-z]+-admin-", binary) is not None) == admin


def insert_entry(template: str, entry: str, values: dict[str, str]) -> str:
    """The entry after the last function of the same kind (else at the end of Resources)."""
    lines = template.split("\n")
    resource = re.compile(r"^  ([A-Za-z0-9]+):\s*$")
    after = None
    for i, line in enumerate(lines):
        m = resource.match(line)
        if not m:
            continue
        j = i + 1
        while j < len(lines) and not re.match(r"^ ?\S", lines[j]) and not re.match(r"^  \S", lines[j]):
            j += 1
        block = "\n".join(lines[i:j])
        binary = re.search(r"^\s+Binary:\s*(\S+)\s*$", block, re.M)
        if "Type: AWS::Serverless::Function" in block and binary and same_kind(binary.group(1), values):
            after = j
    if after is None:
        after = next((i for i, line in enumerate(lines) if line.startswith("Outputs:")), len(lines))
    while after > 0 and not lines[after - 1].strip():
        after -= 1
    return "\n".join(lines[:after] + [""] + entry.rstrip("\n").split("\n") + lines[after:])


def main() -> int:
    if len(sys.argv) != 2 or not sys.argv[1]:
        die("usage: make new-function NAME=http-get-foo (or http-post-…, http-put-…, http-delete-…, cron-…, sqs-…, stream-…, event-…)")
    name = sys.argv[1]
    if not NAME.match(name):
        die(f"{name!r}: a binary name is <kind>-<words> in lower case, kind http-<get|post|put|delete>, cron, sqs, stream or event")
    package = ROOT / "functions" / name
    template = TEMPLATE_YAML.read_text()
    if package.exists():
        die(f"functions/{name} already exists")
    if re.search(rf"^\s+Binary:\s*{re.escape(name)}\s*$", template, re.M):
        die(f"template.yaml already has a function {name}")
    values = variables(name)
    source = TEMPLATES / values["kind"]
    entry = fill((source / "template.yaml").read_text(), values)
    for logical_id in re.findall(r"^  ([A-Za-z0-9]+):\s*$", entry, re.M):
        if re.search(rf"^  {logical_id}:\s*$", template, re.M):
            die(f"template.yaml already has a resource {logical_id}")
    (package / "src").mkdir(parents=True)
    (package / "Cargo.toml").write_text(fill((source / "Cargo.toml").read_text(), values))
    (package / "src/main.rs").write_text(fill((source / "main.rs").read_text(), values))
    (package / "src/lib.rs").write_text(fill((source / values["lib"]).read_text(), values))
    TEMPLATE_YAML.write_text(insert_entry(template, entry, values))
    print(f"new-function: wrote functions/{name}/ (Cargo.toml, src/main.rs, src/lib.rs) and its template.yaml entry")
    generated = subprocess.run([sys.executable, str(ROOT / "infra/gen/generate.py")])
    if generated.returncode != 0:
        return generated.returncode
    steps = [
        f"write the handler in functions/{name}/src/lib.rs and check it: cargo check -p {name}",
        "adjust its template.yaml entry (marked TODO: description, policies"
        + (", Access and Path)" if values["kind"] == "http" else ", trigger)"),
    ]
    if values["kind"] == "http":
        steps.append(f"give the route's facts in functions/{name}/Cargo.toml [package.metadata.billing] (infra/gen/README.md)")
    steps.append("add its tests; then `make generate` again")
    if values["kind"] == "http":
        steps.append("`make web-types` for the web app's API types")
    print("next:\n" + "\n".join(f"  - {s}" for s in steps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
