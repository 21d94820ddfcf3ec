"""How many resources `template.yaml` becomes after the SAM transform, against a budget.

CloudFormation refuses a stack of more than 500 resources, and SAM turns each function into
two to four (the function, its role, its permissions, an event source mapping or a schedule).
This check transforms the template offline, as `sam deploy` would, prints the count by type
and fails well before the limit (`BUDGET`), so growth is planned rather than discovered at
deploy time. Run by `make validate` (and so by CI) with the SAM CLI's own Python.
"""

import os
import sys
from collections import Counter

from samcli.yamlhelper import yaml_parse
from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform

BUDGET = 400  # CloudFormation's limit is 500 per stack.


class OfflinePolicies(ManagedPolicyLoader):
    """The managed policies SAM adds by name, without asking IAM (no AWS account here)."""

    def __init__(self):
        pass

    def load(self):
        base = "arn:aws:iam::aws:policy/service-role/"
        return {name: base + name for name in ("AWSLambdaBasicExecutionRole", "AWSLambdaSQSQueueExecutionRole",
                                                 "AWSLambdaDynamoDBExecutionRole", "AWSLambdaRole")}


def main(path):
    # No AWS account or profile here: the transform only needs a region name for its ARNs.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    template = yaml_parse(open(path).read())
    written = len(template["Resources"])
    # As `sam package` leaves it: code in S3 rather than in local folders.
    for name, resource in template["Resources"].items():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://artifacts/{name}.zip"
    pseudo = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws",
              "AWS::StackName": "billing"}
    resources = transform(template, pseudo, OfflinePolicies())["Resources"]
    by_type = Counter(r["Type"] for r in resources.values())
    top = ", ".join(f"{n} {t.split('::')[-1]}" for t, n in by_type.most_common(6))
    print(f"template.yaml: {written} resources written, {len(resources)} after the SAM transform "
          f"(budget {BUDGET}, CloudFormation's limit 500): {top}")
    if len(resources) > BUDGET:
        print(f"over the budget of {BUDGET}: split the stack (nested stacks) or share roles before adding more",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "template.yaml"))
