"""Pass 1 on one rank: score this rank's unfinished shards and spill them to the work folder."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from amber_eval.pairs import spill
from amber_eval.pairs.reading import iter_shards
from amber_eval.pairs.team import Team
from amber_eval.progress import rate_progress

if TYPE_CHECKING:
    from amber_eval.pairs.encoders import PhraseEncoder
    from amber_eval.pairs.phrases import PhraseParser
    from amber_eval.pairs.regions import RegionProvider
    from amber_eval.pairs.settings import FilterSettings


class ShardWorker:
    """Loads the parser and models on first need, so a resumed run with nothing left to do
    loads nothing."""

    def __init__(self, settings: FilterSettings, work: Path, team: Team) -> None:
        self.settings = settings
        self.work = work
        self.team = team
        self._parts: tuple[PhraseParser, PhraseEncoder, RegionProvider] | None = None

    def parts(self) -> tuple[PhraseParser, PhraseEncoder, RegionProvider]:
        if self._parts is None:
            self._parts = build_parts(self.settings, self.team.device)
        return self._parts

    def run(self, *, progress: bool = False, estimated_pairs: int | None = None) -> int:
        """Score this rank's shards; returns the number of shards in the input."""
        from amber_eval.pairs.scoring import score_pairs

        count = 0
        size, rank = self.team.size, self.team.rank
        mine = None if estimated_pairs is None else max(1, estimated_pairs // size)
        with rate_progress(
            mine, "scoring pairs", "pairs", enabled=progress and rank == 0
        ) as advance:
            for shard in iter_shards(self.settings.pairs, self.settings.shard_size):
                count = shard.index + 1
                if shard.index % size != rank or spill.is_done(self.work, shard.index):
                    continue
                started = time.perf_counter()
                parser, encoder, provider = self.parts()
                scored = score_pairs(
                    shard.pairs,
                    parser,
                    encoder,
                    provider,
                    skip_missing=self.settings.skip_missing,
                )
                record = spill.ShardRecord(
                    shard=shard.index,
                    rank=rank,
                    pairs=len(shard.pairs),
                    phrases=len(scored.phrases),
                    pairs_without_phrases=scored.pairs_without_phrases,
                    skipped=scored.skipped,
                    seconds=round(time.perf_counter() - started, 3),
                )
                spill.write_shard(self.work, shard.index, scored.phrases, record)
                advance(len(shard.pairs))
        if self._parts is not None and hasattr(self._parts[2], "close"):
            self._parts[2].close()
        return count


def build_parts(
    settings: FilterSettings, device: Any
) -> tuple[PhraseParser, PhraseEncoder, RegionProvider]:
    from amber_eval.pairs.encoders import CropEncoder, PhraseEncoder, load_clip
    from amber_eval.pairs.phrases import make_parser
    from amber_eval.pairs.regions import FeatureDirRegions, ImageDirRegions

    parser = make_parser(settings.parser)
    from amber_eval.segmenter.torch_device import resolve_device

    chosen = resolve_device(settings.clip.device) if settings.clip.device else device
    clip = load_clip(settings.clip, device=chosen or resolve_device(None))
    encoder = PhraseEncoder(clip, settings.clip.text_batch_size, settings.phrase_cache_size)
    provider: RegionProvider
    if settings.features is not None:
        provider = FeatureDirRegions(settings.features, dim=clip.embed_dim)
    else:
        from amber_eval.segmenter.catalog import create_mask_source

        assert settings.images is not None
        source = create_mask_source(settings.masks, **dict(settings.mask_options))
        provider = ImageDirRegions(
            settings.images,
            source,
            CropEncoder(clip, settings.clip.image_batch_size),
        )
    return parser, encoder, provider
