# Two commands on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOME_DIR ?= $(CURDIR)/.policykb
STAMP  := $(VENV)/.installed

.PHONY: run test install system-packages clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Debian packages the tests use: a CJK TrueType font for the rendered PDF fixtures, Chromium for the
# end-to-end test (Playwright drives /usr/bin/chromium; it never downloads a browser), and LibreOffice's
# Writer without a GUI, which reads .doc/.wps/.rtf/.odt (51 packages without recommends, about 30 s).
system-packages:
	@test -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc && test -x /usr/bin/chromium || \
	  { (apt-get update -qq && apt-get install -y -qq fonts-wqy-microhei chromium) >/dev/null 2>&1 || \
	    echo "未能安装 fonts-wqy-microhei / chromium：PDF 测试改用内置 CID 字体，端到端测试将跳过"; }
	@command -v soffice >/dev/null || \
	  { (apt-get update -qq && apt-get install -y -qq --no-install-recommends libreoffice-writer-nogui) \
	    >/dev/null 2>&1 || echo "未能安装 libreoffice-writer-nogui：.doc/.wps/.rtf/.odt 测试将跳过"; }

# Ingest the bundled corpus (a no-op for unchanged files), load the shipped e5 vectors of the bundled
# corpus, and serve the page on http://127.0.0.1:8000/ ; vectors the cache lacks are made in the
# background while the service runs. Set POLICYKB_TOKEN to allow uploads.
run: $(STAMP)
	$(BIN)/policykb --home $(HOME_DIR) ingest corpus/
	$(BIN)/policykb --home $(HOME_DIR) embed --import eval/cache/e5-bundled.npz --no-embed
	$(BIN)/policykb --home $(HOME_DIR) serve --host 127.0.0.1 --port 8000

test: $(STAMP) system-packages
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) $(HOME_DIR)
