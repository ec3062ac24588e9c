# Two commands on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOME_DIR ?= $(CURDIR)/.policykb
STAMP  := $(VENV)/.installed

.PHONY: run test install fonts clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# A CJK TrueType font for the PDF fixtures the tests render (Debian package).
fonts:
	@fc-list 2>/dev/null | grep -qi wqy || test -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc || \
	  { (apt-get update -qq && apt-get install -y -qq fonts-wqy-microhei) >/dev/null 2>&1 || \
	    echo "未能安装 fonts-wqy-microhei：相关 PDF 测试将改用 reportlab 内置 CID 字体"; }

# Ingest the bundled corpus (a no-op for unchanged files), load the shipped e5 vectors of the bundled
# corpus and embed only what they miss (resumable, cached by text), and list what is in the store.
run: $(STAMP)
	$(BIN)/policykb --home $(HOME_DIR) ingest corpus/
	$(BIN)/policykb --home $(HOME_DIR) embed --import eval/cache/e5-bundled.npz
	$(BIN)/policykb --home $(HOME_DIR) docs

test: $(STAMP) fonts
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) $(HOME_DIR)
