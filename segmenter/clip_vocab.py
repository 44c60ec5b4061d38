"""``clip-vocab``: open_clip scores vocabulary phrases on each masked region crop.

Two stages per region: the object words are scored first (``P(object)``, a softmax over all
objects of ``prompt`` texts); for the ``object_candidates`` best objects every phrase from the
templates is scored (``P(phrase | object)``, a softmax within the object's phrases). A phrase's
score is ``P(object) * P(phrase | object)``; the ``top_k`` best phrases of a region whose score
reaches ``threshold`` become its captions. Text embeddings are computed once per phrase.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from importlib.metadata import version
from typing import Any, Literal

from amber_eval.errors import ResourceError
from amber_eval.file_digests import local_model_digest
from amber_eval.segmenter.base import Captioner
from amber_eval.segmenter.crops import region_crop
from amber_eval.segmenter.options import build_settings
from amber_eval.segmenter.torch_device import resolve_device
from amber_eval.segmenter.types import Identity, Mask, RegionCaption, SourceImage
from amber_eval.segmenter.vocabulary import (
    DEFAULT_TEMPLATES,
    check_templates,
    load_vocabulary,
    object_phrases,
)

DEFAULT_MODEL = "ViT-B-16"
DEFAULT_PRETRAINED = "laion2b_s34b_b88k"


@dataclass(frozen=True)
class ClipVocabSettings:
    model: str = DEFAULT_MODEL
    """open_clip architecture (``ViT-L-14``, ...), ``hf-hub:org/name`` or ``local-dir:DIR``."""
    pretrained: str | None = DEFAULT_PRETRAINED
    """open_clip pretrained tag (``openai``, ``laion2b_s34b_b88k``, ...) or a weights file."""
    vocabulary: str = "default"
    """``default``, ``amber`` (AMBER's 418 object words: inflates scores) or a file."""
    templates: str = "|".join(DEFAULT_TEMPLATES)
    """Phrase templates separated by ``|``; placeholders {object}, {objects}, {attr}, {count}."""
    prompt: str = "a photo of {phrase}."
    """The text CLIP embeds for a phrase (the caption is the phrase itself)."""
    top_k: int = 1
    """Phrases kept per region (best first)."""
    threshold: float = 0.1
    """Minimum phrase score ``P(object) * P(phrase | object)``; 0 keeps every region."""
    object_candidates: int = 3
    """Objects whose phrases are scored in the second stage."""
    background: Literal["grey", "keep"] = "grey"
    """Outside the mask: painted grey (a masked crop) or kept (a box crop)."""
    min_region: int = 16
    """Skip regions smaller than this many pixels."""
    batch_size: int = 32
    """Region crops per forward pass."""
    device: str | None = None
    """torch device (default: cuda when available)."""
    data_dir: str | None = None
    """AMBER's data folder, for ``vocabulary=amber``."""

    def __post_init__(self) -> None:
        if self.top_k < 1 or self.object_candidates < 1 or self.batch_size < 1:
            raise ValueError("top_k, object_candidates and batch_size must be at least 1")
        if "{phrase}" not in self.prompt:
            raise ValueError("prompt must contain {phrase}")


class ClipVocabCaptioner(Captioner):
    """Region crops -> the best vocabulary phrases by CLIP similarity."""

    Settings = ClipVocabSettings

    def __init__(self, settings: ClipVocabSettings | None = None) -> None:
        self.settings = s = settings or ClipVocabSettings()
        self.templates = tuple(t.strip() for t in s.templates.split("|") if t.strip())
        check_templates(self.templates)
        self.vocabulary = load_vocabulary(s.vocabulary, data_dir=s.data_dir)
        try:
            import open_clip
            import torch
        except ImportError as exc:
            raise ResourceError(
                f"clip-vocab needs torch and open_clip_torch ({exc}); install amber-eval[segment]"
            ) from None
        self.device = resolve_device(s.device)
        try:
            # hf-hub: and local-dir: models carry their own weights.
            pretrained = None if s.model.startswith(("hf-hub:", "local-dir:")) else s.pretrained
            model, _, preprocess = open_clip.create_model_and_transforms(
                s.model, pretrained=pretrained, device=self.device
            )
            self.tokenizer = open_clip.get_tokenizer(s.model)
        except (RuntimeError, OSError, ValueError) as exc:
            raise ResourceError(
                f"cannot load open_clip model {s.model!r} (pretrained {s.pretrained!r}): {exc}"
            ) from None
        self.model = model.eval()
        self.preprocess = preprocess
        with torch.inference_mode():
            logit_scale = getattr(self.model, "logit_scale", None)
            self._scale = 100.0 if logit_scale is None else float(logit_scale.exp())
        self._torch = torch
        self._phrase_cache: dict[int, tuple[list[str], Any]] = {}
        self._objects = self.encode_texts(
            [s.prompt.replace("{phrase}", p) for p in self._object_texts()]
        )
        settings_json = asdict(s)
        settings_json["pretrained"] = pretrained
        settings_json.pop("device")
        settings_json.pop("data_dir")
        settings_json["vocabulary_sha256"] = self.vocabulary.sha256
        settings_json["benchmark_vocabulary"] = self.vocabulary.benchmark
        settings_json.update(local_model_digest("model", s.model))
        settings_json.update(local_model_digest("pretrained", s.pretrained))
        self.identity = Identity("clip-vocab", version("open_clip_torch"), settings_json)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> ClipVocabCaptioner:
        return cls(build_settings(ClipVocabSettings, options, component="captioner clip-vocab"))

    def _object_texts(self) -> list[str]:
        return [
            object_phrases(self.vocabulary, i, ("a {object}",))[0]
            for i in range(len(self.vocabulary.objects))
        ]

    def encode_texts(self, texts: Sequence[str]) -> Any:
        """L2-normalised text embeddings (``len(texts) x D``)."""
        torch = self._torch
        chunks = []
        with torch.inference_mode():
            for start in range(0, len(texts), 256):
                tokens = self.tokenizer(list(texts[start : start + 256])).to(self.device)
                features = self._encode_tokens(tokens).float()
                chunks.append(features / features.norm(dim=-1, keepdim=True))
        return torch.cat(chunks)

    def _encode_tokens(self, tokens: Any) -> Any:
        """``model.encode_text``, skipping the padding after the longest phrase where that is exact.

        CLIP's text tower is causal and pools the end-of-text token, so positions after it never
        reach the pooled feature: cutting the batch to ``max(end) + 1`` tokens changes nothing
        and saves most of the work on short phrases. Other text towers run unchanged.
        """
        import open_clip
        from open_clip.transformer import text_global_pool

        model = self.model
        pool = getattr(model, "text_pool_type", None)
        if type(model) is not open_clip.CLIP or model.attn_mask is None or pool != "argmax":
            return model.encode_text(tokens)
        length = int(tokens.argmax(dim=-1).max()) + 1
        cut = tokens[:, :length]
        cast = model.transformer.get_cast_dtype()
        x = model.token_embedding(cut).to(cast) + model.positional_embedding[:length].to(cast)
        x = model.transformer(x, attn_mask=model.attn_mask[:length, :length])
        x = text_global_pool(model.ln_final(x), cut, "argmax")
        projection = model.text_projection
        if projection is None:
            return x
        return projection(x) if isinstance(projection, self._torch.nn.Linear) else x @ projection

    def encode_crops(self, crops: Sequence[Any]) -> Any:
        """L2-normalised image embeddings of PIL crops, in batches of ``batch_size``."""
        torch = self._torch
        chunks = []
        with torch.inference_mode():
            for start in range(0, len(crops), self.settings.batch_size):
                batch = torch.stack(
                    [self.preprocess(c) for c in crops[start : start + self.settings.batch_size]]
                )
                features = self.model.encode_image(batch.to(self.device)).float()
                chunks.append(features / features.norm(dim=-1, keepdim=True))
        return torch.cat(chunks)

    def phrases_of(self, index: int) -> tuple[list[str], Any]:
        """The phrases of object ``index`` and their text embeddings (cached)."""
        self.cache_phrases([index])
        return self._phrase_cache[index]

    def cache_phrases(self, indices: Sequence[int]) -> None:
        """Embed the phrases of the objects not yet cached, all in one batched pass."""
        missing = sorted({i for i in indices if i not in self._phrase_cache})
        if not missing:
            return
        phrases = {i: object_phrases(self.vocabulary, i, self.templates) for i in missing}
        prompts = [self.settings.prompt.replace("{phrase}", p) for i in missing for p in phrases[i]]
        embeddings = self.encode_texts(prompts)
        start = 0
        for i in missing:
            count = len(phrases[i])
            self._phrase_cache[i] = (phrases[i], embeddings[start : start + count])
            start += count

    def score_regions(self, image_features: Any) -> list[list[tuple[str, float, str]]]:
        """For each region embedding: ``(phrase, score, object)`` best first (``top_k`` kept)."""
        scale = self._scale
        object_probs = (scale * image_features @ self._objects.T).softmax(dim=-1)
        k = min(self.settings.object_candidates, object_probs.shape[1])
        top = object_probs.topk(k, dim=-1)
        self.cache_phrases(top.indices.flatten().tolist())
        results = []
        for row in range(image_features.shape[0]):
            candidates: list[tuple[str, float, str]] = []
            for p_object, index in zip(
                top.values[row].tolist(), top.indices[row].tolist(), strict=True
            ):
                phrases, embeddings = self.phrases_of(index)
                p_phrase = (scale * image_features[row] @ embeddings.T).softmax(dim=-1)
                for phrase, p in zip(phrases, p_phrase.tolist(), strict=True):
                    candidates.append((phrase, p_object * p, self.vocabulary.objects[index]))
            candidates.sort(key=lambda c: -c[1])
            results.append(candidates[: self.settings.top_k])
        return results

    def caption(self, image: SourceImage, masks: Sequence[Mask]) -> list[RegionCaption]:
        pixels = image.rgb()
        used = [i for i, m in enumerate(masks) if m.area >= self.settings.min_region]
        if not used:
            return []
        crops = [region_crop(pixels, masks[i], background=self.settings.background) for i in used]
        scored = self.score_regions(self.encode_crops(crops))
        captions = []
        for index, best in zip(used, scored, strict=True):
            for phrase, score, obj in best:
                if score >= self.settings.threshold:
                    captions.append(RegionCaption(phrase, score=score, label=obj, mask_index=index))
        return captions
