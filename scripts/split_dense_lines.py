"""Split semicolon-joined statements and wrap lines over 120 characters at commas in the code cells of notebooks,
keeping each cell's AST identical (checked per cell; a change that would alter it is dropped).

    .venv/bin/python scripts/split_dense_lines.py nbs/api/*.ipynb && .venv/bin/nbdev_export
"""
import ast, io, json, sys, tokenize, keyword
from pathlib import Path

COMPOUND = {'if', 'elif', 'else', 'for', 'while', 'with', 'try', 'except', 'finally', 'def', 'class', 'async'}
MAXW = 120

def _toks(src):
    return list(tokenize.generate_tokens(io.StringIO(src).readline))

def split_semis(src: str) -> str:
    lines = src.split('\n')
    try: toks = _toks(src)
    except (tokenize.TokenError, IndentationError, SyntaxError): return src
    depth = 0; by_line = {}
    for t in toks:
        if t.type == tokenize.OP and t.string in '([{': depth += 1
        elif t.type == tokenize.OP and t.string in ')]}': depth -= 1
        by_line.setdefault(t.start[0], []).append((t, depth))
    out = []
    for i, line in enumerate(lines, 1):
        ts = by_line.get(i, [])
        semis = [t for t, d in ts if t.type == tokenize.OP and t.string == ';' and d == 0 and t.start[0] == t.end[0]]
        # only lines that start a logical line (first token starts here at its indentation)
        if not semis or not ts or ts[0][0].start[1] != len(line) - len(line.lstrip()):
            out.append(line); continue
        first = ts[0][0]
        ind = ' ' * first.start[1]
        cuts = [t.start[1] for t in semis]
        head = None
        if first.type == tokenize.NAME and first.string in COMPOUND:
            colon = next((t for t, d in ts if t.type == tokenize.OP and t.string == ':' and d == 0), None)
            if colon is None or colon.start[1] > cuts[0]: out.append(line); continue
            head = line[:colon.end[1]]
            body_start = colon.end[1]; bind = ind + '    '
        else:
            body_start = first.start[1]; bind = ind
        pieces, prev = [], body_start
        for c in cuts:
            pieces.append(line[prev:c].strip()); prev = c + 1
        tail = line[prev:].strip()
        # a trailing comment stays with the last statement
        pieces.append(tail)
        pieces = [p for p in pieces if p]
        if head is not None: out.append(head)
        out.extend(bind + p for p in pieces)
    return '\n'.join(out)

def _break_point(src: str, skip: set):
    "(line index, cut col, indent col) of the first long line with a comma to break after, or None."
    lines = src.split('\n')
    toks = _toks(src)
    stack, fdepth = [], 0
    best = {}
    for t in toks:
        if t.type == getattr(tokenize, 'FSTRING_START', -1): fdepth += 1; continue
        if t.type == getattr(tokenize, 'FSTRING_END', -1): fdepth -= 1; continue
        if fdepth: continue
        if t.type == tokenize.OP and t.string in '([{': stack.append(t.start)
        elif t.type == tokenize.OP and t.string in ')]}':
            if stack: stack.pop()
        elif t.type == tokenize.OP and t.string == ',' and stack:
            r = t.start[0]
            line = lines[r - 1]
            if len(line) <= MAXW or r in skip or stack[-1][0] != r: continue
            if t.end[1] > MAXW - 1 or not line[t.end[1]:].strip() or line[t.end[1]:].lstrip().startswith('#'): continue
            if stack[-1][1] + 1 <= 72: best[r] = (r, t.end[1], stack[-1][1] + 1)
    if not best: return None
    return best[min(best)]

def wrap_long(src: str) -> str:
    skip = set()
    for _ in range(2000):
        try: bp = _break_point(src, skip)
        except (tokenize.TokenError, IndentationError, SyntaxError): return src
        if bp is None: return src
        r, cut, ind = bp
        lines = src.split('\n')
        line = lines[r - 1]
        rest = line[cut:].lstrip()
        if ind + len(rest) >= len(line): skip.add(r); continue
        lines[r - 1:r] = [line[:cut].rstrip(), ' ' * ind + rest]
        src = '\n'.join(lines)
        skip = {x + 1 if x > r else x for x in skip}
    return src

def same_ast(a: str, b: str) -> bool:
    try: return ast.dump(ast.parse(a)) == ast.dump(ast.parse(b))
    except SyntaxError: return False

def _per_line(src: str) -> str:
    "split_semis line by line, keeping each line's split only where the cell's AST stays the same."
    lines = src.split('\n')
    i = 0
    while i < len(lines):
        one = split_semis(lines[i].lstrip())
        if one != lines[i].lstrip():
            ind = lines[i][:len(lines[i]) - len(lines[i].lstrip())]
            cand = lines[:i] + [ind + l for l in one.split('\n')] + lines[i + 1:]
            if same_ast('\n'.join(lines), '\n'.join(cand)):
                lines = cand
                i += len(one.split('\n'))
                continue
        i += 1
    return '\n'.join(lines)

def fix_cell(src: str) -> str:
    lines = src.split('\n')
    # hide directives/magics for parsing
    if any(l.lstrip().startswith(('%', '!')) for l in lines): return src
    try: ast.parse(src)
    except SyntaxError: return src
    new = split_semis(src)
    if not same_ast(src, new): new = _per_line(src)
    w = wrap_long(new)
    if same_ast(src, w): new = w
    return new

def fix_nb(path: Path) -> tuple[int, int]:
    nb = json.loads(path.read_text())
    n = 0
    for c in nb['cells']:
        if c['cell_type'] != 'code': continue
        src = ''.join(c['source'])
        new = fix_cell(src)
        if new != src:
            n += 1
            ls = new.split('\n')
            c['source'] = [l + '\n' for l in ls[:-1]] + ([ls[-1]] if ls[-1] else [])
    if n: path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')
    return n

if __name__ == '__main__':
    for p in sys.argv[1:]:
        print(p, fix_nb(Path(p)))
