"""The hybrid retriever as a langchain ``BaseRetriever``; imported only by those who use it."""

from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from .retrieve import Hit, HybridRetriever


class LangChainRetriever(BaseRetriever):
    """The hybrid retriever as a langchain ``BaseRetriever`` returning ``Document``s."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    hybrid: HybridRetriever
    k: int = 8

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[LCDocument]:
        return [to_langchain(h) for h in self.hybrid.search(query, self.k).hits]


def to_langchain(hit: Hit) -> LCDocument:
    p = hit.passage
    return LCDocument(
        page_content=p.text,
        id=p.id,
        metadata={
            "doc_id": p.doc_id,
            "section": p.section_label,
            "start": p.start,
            "end": p.end,
            "score": hit.score,
            "similarity": hit.similarity,
            "references": [r.label() for r in p.references],
        },
    )
