"""The pinned upstream files: names, sha256 and download URLs."""

from __future__ import annotations

from dataclasses import dataclass

UPSTREAM_REPO = "junyangwang0410/AMBER"
UPSTREAM_COMMIT = "534babf6bbfcce2e735c26289dedfb21cef3c939"
UPSTREAM_BASE_URL = f"https://raw.githubusercontent.com/{UPSTREAM_REPO}/{UPSTREAM_COMMIT}/data/"


@dataclass(frozen=True)
class DataFile:
    """One file of AMBER's ``data/`` folder at the pinned commit."""

    path: str  # relative to the data folder, with forward slashes
    sha256: str

    def url(self, base_url: str = UPSTREAM_BASE_URL) -> str:
        return base_url.rstrip("/") + "/" + self.path


FILES: tuple[DataFile, ...] = (
    DataFile(
        "annotations.json", "db22a436c4836fbb295e60b4e80d519573077579fb7032f01b193c1bd022b797"
    ),
    DataFile("relation.json", "c4c1491e9bbc3209abc1888c12a1bf8413bdbab8a0d8be04b990a2e7680cf23e"),
    DataFile("safe_words.txt", "f92cf1123f4578a2630832fac3e6ac4de36212ea55859d3bed4fd233723f4043"),
    DataFile("metrics.txt", "2fbe2ee584d10e7ce0a568a4902d3d2296727d45f761bf091dd35c4e4b5bc6ac"),
    DataFile(
        "query/query_all.json", "127680ae61f7d4a92d2f7f07a8deaec07f0689b194d2c7c0f41ead7bd2c5bcf5"
    ),
    DataFile(
        "query/query_generative.json",
        "b7e4c36596126ee36d2c3922638b7fa98743c26efda78fea2315f4425258d087",
    ),
    DataFile(
        "query/query_discriminative.json",
        "1502887ac020f4bb7ea564af4e37bddcb030d61b78490d00f9da492a2307abb8",
    ),
    DataFile(
        "query/query_discriminative-existence.json",
        "657cce3b3ccd02303998d7d27d1ce06bd210a7a55aa6c888b1b86d5a9dfd9849",
    ),
    DataFile(
        "query/query_discriminative-attribute.json",
        "35c0fe71290789c5eb198e9a3f5732533bcb35f1d963b57539aab5d1b41dd827",
    ),
    DataFile(
        "query/query_discriminative-relation.json",
        "36e08860653a1562acb657c250604c3d4e26f8a5f99a376fd53c67f9242be20f",
    ),
)

FILES_BY_PATH = {f.path: f for f in FILES}
