# The two commands: `make dev` runs the system locally, `make test` runs every test.
# Both install what is missing (pinned, into .cache/) on first use.
SHELL := /bin/bash

.PHONY: dev test fuzz web web-test web-types web-bench deploy-web lint validate build sizes bench bench-lambda clean-local generate check-generated new-function scan

dev: ## Start the emulators and the local API in the foreground; Ctrl-C stops everything.
	@bash infra/local/dev.sh

test: ## Start a private emulator stack, run the whole test suite, stop the stack.
	@bash infra/local/test.sh

fuzz: ## Schemathesis against the local server with its own OpenAPI document (also run by `make test`).
	@bash infra/local/fuzz.sh

web: ## Build the pages (web/dist) as `make dev` serves them and CloudFront will.
	@bash infra/local/web-build.sh

web-test: ## The web app's checks and browser tests against a private stack (also run by `make test`).
	@bash infra/local/web-test.sh

web-bench: ## The billing page's first-load JavaScript, API requests and Lighthouse scores, against a running `make dev`.
	@bash infra/local/web-bench.sh

deploy-web: ## Upload the pages to the deployed stack's bucket and refresh CloudFront (after `sam deploy`).
	@bash infra/deploy-web.sh

web-types: ## Regenerate web/src/api/schema.d.ts from the OpenAPI document the server serves.
	@bash infra/local/web-types.sh

# The generator reads YAML: it runs on the pinned tools' Python (PyYAML comes with the SAM
# CLI), so nothing depends on what the machine's own Python happens to have.
GEN_PYTHON := .cache/venv-tools/bin/python

generate: ## Rewrite what is derived from template.yaml and functions/*: the OpenAPI route table, the local server's registry and dependencies.
	@bash infra/local/stack.sh install tools
	$(GEN_PYTHON) infra/gen/generate.py

check-generated: ## Fail if a file `make generate` writes is stale (CI runs it).
	@bash infra/local/stack.sh install tools
	$(GEN_PYTHON) infra/gen/generate.py --check

new-function: ## Scaffold functions/$(NAME) and its template.yaml entry, then generate (NAME=http-get-foo, http-post-…, cron-…, sqs-…, stream-…, event-…).
	@bash infra/local/stack.sh install tools
	$(GEN_PYTHON) infra/gen/new_function.py "$(NAME)"

lint: ## Formatting, generated files, one HTTP/TLS stack, each function compiling alone and clippy, as CI runs them.
	cargo fmt --all --check
	@$(MAKE) --no-print-directory check-generated
	@bash infra/local/check-deps.sh
	@bash infra/local/check-functions-alone.sh
	cargo clippy --workspace --all-targets -- -D warnings

validate: ## sam validate --lint with the pinned SAM CLI, and the stack's size after the SAM transform (fails above 400 resources).
	@bash infra/local/stack.sh install tools
	@SAM_CLI_TELEMETRY=0 .cache/venv-tools/bin/sam validate --lint --region us-east-1
	@.cache/venv-tools/bin/python infra/local/check-template-size.py template.yaml

scan: ## checkov's CloudFormation checks on template.yaml; what does not apply is skipped with its reason (infra/checkov.yaml).
	@bash infra/local/scan.sh

bench: ## Reservation throughput/latency and invoice generation against DynamoDB Local (Markdown tables).
	@bash infra/local/test.sh --bench-only

bench-lambda: ## Release builds started as Lambda sandboxes against a Runtime API emulator: size, init, invocations, peak RSS (Markdown table).
	@bash infra/local/bench-lambda.sh

sizes: ## Every function's arm64 bootstrap as cargo-lambda builds it, sizes against their budgets (Markdown table).
	@bash infra/local/arm64-sizes.sh

build: ## Release arm64 build of every function, as `sam build` does it.
	@bash infra/local/stack.sh install tools
	@SAM_CLI_TELEMETRY=0 PATH="$(CURDIR)/.cache/venv-tools/bin:$$PATH" sam build --beta-features

clean-local: ## Stop any local stacks and forget local state.
	@for d in .local/dev .local/test; do [ -d $$d ] && bash infra/local/stack.sh stop $$d || true; done
	rm -rf .local
