# gnn-neo4j: `make demo` and `make test` set everything up from nothing.
# The virtualenv lives outside the checkout so clones share it; it is reinstalled only when setup.cfg
# (or the checkout path) changes. Maven artifacts are cached in ~/.m2 as usual.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= $(HOME)/.cache/gnn-neo4j/venv
PY := $(VENV)/bin/python
MVN ?= mvn -B -q
SETUP_HASH := $(shell cat setup.cfg pyproject.toml | sha256sum | cut -c1-16)-$(shell pwd | sha256sum | cut -c1-8)
VENV_STAMP := $(VENV)/.installed-$(SETUP_HASH)
NEO4J_HOME := neo4j-server/target/neo4j-home
SERVER_STAMP := $(NEO4J_HOME)/.assembled
PLUGIN_JAR := procedures/target/gnn-procedures-0.1.0.jar
PLUGIN_SOURCES := $(shell find procedures/src/main -type f 2>/dev/null) procedures/pom.xml
PYTEST_ARGS ?=

.PHONY: all setup venv server plugin test test-java test-python demo clean bench lint

all: setup

setup: venv server

venv: $(VENV_STAMP)

$(VENV_STAMP): setup.cfg pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,postgres]'
	rm -f $(VENV)/.installed-* && touch $@

# the plugin jar, built (and unit-tested by `test-java`) from procedures/
plugin: $(PLUGIN_JAR)

$(PLUGIN_JAR): $(PLUGIN_SOURCES)
	cd procedures && $(MVN) package -DskipTests

# Neo4j + OpenGDS + APOC + Browser resolved in one Maven run, plus our plugin
server: $(SERVER_STAMP) $(NEO4J_HOME)/plugins/gnn-procedures.jar

$(SERVER_STAMP): neo4j-server/pom.xml
	rm -rf $(NEO4J_HOME)
	cd neo4j-server && $(MVN) package
	touch $@

$(NEO4J_HOME)/plugins/gnn-procedures.jar: $(PLUGIN_JAR) $(SERVER_STAMP)
	cp $(PLUGIN_JAR) $@

test-java:
	cd procedures && $(MVN) verify

test-python: setup
	$(PY) -m pytest $(PYTEST_ARGS)

test: setup test-java test-python

demo: setup
	$(VENV)/bin/gnn-neo4j demo

bench: setup
	$(PY) bench/bench_generate.py

clean:
	-$(VENV)/bin/gnn-neo4j server stop
	rm -rf neo4j-server/target procedures/target
