"""A stand-in for a full spaCy pipeline (like en_core_web_sm/lg) built from a vectors pipeline.

Benchmarks need the per-call cost of a full pipeline (``nlp(word)`` runs tok2vec, tagger,
parser and NER) but no trained pipeline can be downloaded everywhere. This builds one with the
standard efficiency architecture of spaCy's ``en_core_web_*`` pipelines (a shared tok2vec with
static vectors for tagger and parser, NER with its own tok2vec, an attribute ruler), randomly
initialised, and carries over the word vectors of a given pipeline. ``Doc.similarity`` reads only
the vectors, so its similarities (and every scoring decision) equal the source pipeline's.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any


def build_standin_pipeline(vectors_pipeline: str | Path, out_dir: str | Path) -> Path:
    """Write a tok2vec+tagger+parser+ner pipeline holding ``vectors_pipeline``'s vectors."""
    import spacy
    from spacy.cli.init_config import init_config
    from spacy.training import Example

    source = spacy.load(vectors_pipeline)
    config = init_config(
        lang="en",
        pipeline=["tok2vec", "tagger", "parser", "ner"],
        optimize="efficiency",
    )
    config["components"]["tok2vec"]["model"]["embed"]["include_static_vectors"] = True
    # NER with its own tok2vec, as in the en_core_web_* pipelines.
    own = copy.deepcopy(config["components"]["tok2vec"]["model"])
    own["embed"]["width"] = 96
    own["encode"]["width"] = 96
    config["components"]["ner"]["model"]["tok2vec"] = own
    nlp: Any = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    nlp.vocab.vectors = source.vocab.vectors
    for key in source.vocab.vectors:
        nlp.vocab.strings.add(source.vocab.strings[key])
    ruler = nlp.add_pipe("attribute_ruler", before="ner")
    samples = [
        (
            "A dog runs in Paris.",
            ["DT", "NN", "VBZ", "IN", "NNP", "."],
            [1, 2, 2, 2, 3, 2],
            ["det", "nsubj", "ROOT", "prep", "pobj", "punct"],
            ["O", "O", "O", "O", "U-GPE", "O"],
        ),
        (
            "Two cats sleep.",
            ["CD", "NNS", "VBP", "."],
            [1, 2, 2, 2],
            ["nummod", "nsubj", "ROOT", "punct"],
            ["U-CARDINAL", "O", "O", "O"],
        ),
    ]
    examples = []
    for text, tags, heads, deps, ents in samples:
        doc = nlp.make_doc(text)
        examples.append(
            Example.from_dict(doc, {"tags": tags, "heads": heads, "deps": deps, "entities": ents})
        )
    nlp.initialize(lambda: examples)
    ruler.add(patterns=[[{"ORTH": "n't"}]], attrs={"NORM": "not"})  # initialize() clears it
    nlp.meta["name"] = "standin_full"
    nlp.meta["version"] = "0.0.0"
    out = Path(out_dir)
    nlp.to_disk(out)
    return out
