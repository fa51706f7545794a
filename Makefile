# Two commands set up everything on a fresh machine: `make run` and `make test`.
PY       ?= python3
VENV     := .venv
BIN      := $(VENV)/bin
STAMP    := $(VENV)/.installed
OUT      ?= out

.PHONY: setup run demo test browser lint typecheck check lock clean eval bench deploy-template launch

setup: $(STAMP)  ## Create .venv/ with the locked, hash-checked dependencies.

$(STAMP): requirements.lock requirements-dev.lock setup.py
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==25.3"
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

run: setup  ## The main job: the curated default feeds, once, into ./out.
	$(BIN)/newsbeam run --feeds deploy/feeds/default.opml --output $(OUT) --once

demo: setup  ## Offline: serve the sample site on loopback and run on it.
	$(BIN)/newsbeam demo --output demo-output

test: setup browser lint typecheck  ## Lint, type-check and run the whole test suite.
	$(BIN)/python -m pytest -q

# The report test drives Debian's chromium. Installed here when missing and we are root
# (CI containers); otherwise that one test skips and says why.
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && export DEBIAN_FRONTEND=noninteractive && { apt-get install -y --no-install-recommends chromium \
	       || { apt-get update && apt-get install -y --no-install-recommends chromium; }; } \
	  || echo "chromium not installed: the report's browser test will be skipped"; }

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

lock:  ## Re-resolve the pins into the hashed lock files.
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe -o requirements.lock requirements.in
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe -o requirements-dev.lock requirements-dev.in

EVAL_DIR ?= $(or $(NEWSBEAM_EVAL_DIR),../shared/eval)
eval: setup  ## Score the stage code on every shared evaluation set -> OUT/eval-report.md.
	@if [ -d "$(EVAL_DIR)" ]; then mkdir -p $(OUT) && \
		OPENBLAS_NUM_THREADS=1 $(BIN)/newsbeam eval all --data "$(EVAL_DIR)" --markdown $(OUT)/eval-report.md; \
	else echo "make eval: $(EVAL_DIR) not found; skipped"; fi

# N articles from loopback hosts through `newsbeam run --once`, against the machine's
# limit (docs/PERFORMANCE.md); BENCH_ARGS e.g. "--articles 10000 --no_streaming".
bench: setup  ## Throughput, stage CPU, peak RSS, peers -> bench/results/latest.json.
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache

# --- Dataflow (docs/DEPLOY.md): PROJECT is required; the rest follow deploy/terraform.
REGION   ?= europe-west1
PREFIX   ?= newsbeam
IMAGE    ?= $(REGION)-docker.pkg.dev/$(PROJECT)/$(PREFIX)/newsbeam:$(shell git rev-parse --short HEAD)
TEMPLATE ?= gs://$(PROJECT)-$(PREFIX)-dataflow/templates/newsbeam.json
BQ_TABLE ?= $(PROJECT):news.articles
FEEDS_IN_IMAGE ?= /template/deploy/feeds/default.opml
JOB      ?= $(PREFIX)

deploy-template:  ## Build and push the image, then the Flex Template spec (PROJECT=...).
	test -n "$(PROJECT)" || { echo "set PROJECT=your-gcp-project"; exit 2; }
	docker build -f deploy/dataflow/Dockerfile -t $(IMAGE) .
	docker push $(IMAGE)
	gcloud dataflow flex-template build $(TEMPLATE) --project $(PROJECT) \
		--image $(IMAGE) --sdk-language PYTHON --metadata-file deploy/dataflow/metadata.json

launch:  ## Start the streaming job from the template (PROJECT=..., UPDATE=1 to replace it).
	test -n "$(PROJECT)" || { echo "set PROJECT=your-gcp-project"; exit 2; }
	gcloud dataflow flex-template run $(JOB) --project $(PROJECT) --region $(REGION) \
		--template-file-gcs-location $(TEMPLATE) \
		--service-account-email $(PREFIX)-worker@$(PROJECT).iam.gserviceaccount.com \
		--staging-location gs://$(PROJECT)-$(PREFIX)-dataflow/staging \
		--temp-location gs://$(PROJECT)-$(PREFIX)-dataflow/tmp \
		--additional-experiments enable_streaming_engine \
		--parameters sdk_container_image=$(IMAGE) \
		--parameters feeds=$(FEEDS_IN_IMAGE),output=/tmp/newsbeam,sink=bigquery,bq_table=$(BQ_TABLE) \
		--parameters input_subscription=projects/$(PROJECT)/subscriptions/$(PREFIX)-urls \
		--parameters output_topic=projects/$(PROJECT)/topics/$(PREFIX)-articles \
		$(if $(UPDATE),--update)
