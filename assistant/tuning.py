"""Tuning: every threshold and weight of the pipeline, as validated data.

The values live in ``rules/tuning.yaml``. Each field says what it does and carries bounds; they
are calibrated on the tuning evaluation set only (``evals/*.yaml``), never on a blind set.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RetrievalTuning(_Section):
    rrf_k: int = Field(
        10,
        ge=1,
        le=200,
        description="Reciprocal-rank fusion constant: 60 is the usual default for large "
        "collections; a small corpus does better when one strong signal can count.",
    )
    pool_factor: int = Field(3, ge=1, le=20, description="Each side retrieves k x this many.")
    min_pool: int = Field(20, ge=1, le=500, description="...and at least this many passages.")
    ubiquitous_share: float = Field(
        0.2,
        gt=0,
        le=1,
        description="A word found in more than this share of passages is not specific "
        "('ALS' says nothing about the topic).",
    )


class ScopeTuning(_Section):
    min_similarity: float = Field(
        0.20,
        ge=0,
        le=1,
        description="Best cosine similarity below which only a rare corpus term keeps a question.",
    )
    confident_similarity: float = Field(
        0.55,
        ge=0,
        le=1,
        description="A question naming no specific corpus term needs at least this similarity.",
    )
    rare_term_idf: float = Field(
        2.5, ge=0, le=20, description="A corpus term with an idf above this counts as rare."
    )
    rare_word_rank: int = Field(
        20000,
        ge=1,
        description="Tokenizer ids above this are rare English words ('parkinson').",
    )
    said_otherwise_words: int = Field(
        2,
        ge=2,
        le=6,
        description="A rare word ending a phrase of the question with at least this many "
        "specific corpus words that one corpus sentence names together ('corticospinal tract "
        "T2/FLAIR hyperintensity') says that sentence's thing in other words, not something "
        "the corpus never mentions. At least two: one word is always 'named together' with "
        "itself.",
    )
    compound_min_part: int = Field(
        3,
        ge=2,
        le=10,
        description="An unknown word that splits into two ordinary English words, each at least "
        "this long ('mealtimes', 'bedtime'), is an ordinary closed compound the tokenizer's "
        "vocabulary lacks, not a name the corpus never mentions.",
    )
    derived_min_prefix: int = Field(
        7,
        ge=4,
        le=20,
        description="A word sharing at least this many first letters with a corpus word, or "
        "ending in a corpus word this long, is a derived form of it ('prognostic' ~ 'prognosis', "
        "'electrodiagnostic' ~ 'diagnostic'), not a name the corpus lacks.",
    )
    derived_min_share: float = Field(
        0.7,
        ge=0.5,
        le=1,
        description="The shared first letters must also cover this share of the shorter word "
        "('corticobasal' is not a form of 'corticospinal').",
    )
    phrase_min_count: int = Field(
        4,
        ge=1,
        description="A corpus word seen at least this often can be bound to a fixed phrase.",
    )
    phrase_min_share: float = Field(
        0.9,
        ge=0.5,
        le=1,
        description="A word whose neighbour is the same word at least this share of the time is "
        "bound to that phrase ('sclerosis' in 'lateral sclerosis'); the question using it in "
        "another phrase ('multiple sclerosis') is about something else.",
    )
    min_word_support: float = Field(
        0.5,
        ge=0,
        le=1,
        description="A reworded sentence must find at least this share of its content words "
        "in the passages it cites (or their glossary wording).",
    )


class ComposeTuning(_Section):
    clinician_sentences: int = Field(7, ge=1, le=30, description="Most sentences, clinician.")
    patient_sentences: int = Field(5, ge=1, le=30, description="Most sentences, patient.")
    clinician_per_document: int = Field(
        4,
        ge=0,
        le=30,
        description="One document gives at most this many of a clinician answer's sentences "
        "while another document has some above the cut (0: no limit).",
    )
    patient_per_document: int = Field(3, ge=0, le=30, description="The same, for patients.")
    clinician_most: int = Field(
        10,
        ge=1,
        le=50,
        description="Most sentences of a clinician answer once a list or section is completed.",
    )
    patient_most: int = Field(8, ge=1, le=50, description="The same, for patients.")
    clinician_cut: float = Field(
        0.35, ge=0, le=1, description="Keep a sentence scoring at least this share of the best."
    )
    patient_cut: float = Field(0.5, ge=0, le=1, description="The same share, for patients.")
    carried_weight: float = Field(
        0.4,
        ge=0,
        le=1,
        description="In a follow-up, a carried subject word counts this much of a word the "
        "user typed.",
    )
    context_weight: float = Field(
        0.5, ge=0, le=1, description="A word found only in the section or lead-in counts this much."
    )
    rank_weight: float = Field(2.0, ge=0, le=20, description="Bonus weight / (retrieval rank+1).")
    similarity_weight: float = Field(
        2.0, ge=0, le=20, description="Bonus weight x the passage's cosine similarity."
    )
    clinician_asking_meaning: float = Field(
        1.0,
        ge=0,
        le=1,
        description="When a clinician's question tells a case and then asks (\"68F, bulbar "
        "onset, FVC 48% ... Which mode suits her?\"), the share of the asking sentences' own "
        "vector in the question vector that sentences' meaning is measured against (the rest "
        "is the whole question's). A vignette's findings are context; what is asked is not.",
    )
    patient_asking_meaning: float = Field(
        0.0,
        ge=0,
        le=1,
        description="The same share for a patient's story and question: a patient's story "
        'often names the topic that a short question ("can anything help?") leaves out.',
    )
    meaning_weight: float = Field(
        10.0,
        ge=0,
        le=100,
        description="Weight x a sentence's similarity in context to the question, minus the "
        "question's median similarity over all sentences (the stored sentence vectors).",
    )
    meaning_pool: int = Field(
        8,
        ge=0,
        le=100,
        description="The sentences closest in meaning to the question (over the whole corpus) "
        "are candidates too, when retrieval missed their passages: at most this many...",
    )
    meaning_floor: float = Field(
        0.15,
        ge=0,
        le=1,
        description="...and only those at least this far above the question's median similarity.",
    )
    concept_pool: int = Field(
        12,
        ge=0,
        le=200,
        description="Passages naming the question's rarest concept (in any wording the corpus "
        "or glossary gives it) under a heading naming the aspect asked for are candidates "
        "too: at most this many are looked at.",
    )
    aspect_weight: float = Field(
        2.0,
        ge=0,
        le=20,
        description="A heading or lead-in naming the aspect asked for (management, dose, ...) "
        "adds this; one naming only other aspects takes it away.",
    )
    sentence_aspect_share: float = Field(
        0.5, ge=0, le=1, description="A sentence naming the aspect itself adds this share of it."
    )
    topic_share: float = Field(
        0.5,
        gt=0,
        le=1,
        description="A heading names the question's topic when it names at least this share "
        "of the topic's concepts, weighed by idf ('Respiratory Management' does not name "
        "'excess respiratory mucus').",
    )
    list_items: int = Field(
        6,
        ge=1,
        le=30,
        description="A list whose heading answers the question is shown with at most this many "
        "of its items.",
    )
    fit_cut: float = Field(
        0.25,
        ge=0,
        le=1,
        description="A sentence under a heading that names the question's topic and aspect is "
        "kept at this share of the best (instead of the audience's cut).",
    )
    list_cut: float = Field(
        0.3,
        ge=0,
        le=1,
        description="...when its best item scores at least this share of the best sentence.",
    )
    section_sentences: int = Field(
        4,
        ge=1,
        le=20,
        description="The best sentence comes with its section's first this many sentences when "
        "the section's heading names the aspect asked for...",
    )
    paragraph_sentences: int = Field(
        3,
        ge=1,
        le=20,
        description="...else with the rest of its paragraph when that has at most this many "
        "sentences.",
    )
    duplicate_jaccard: float = Field(
        0.6, gt=0, le=1, description="Sentences this similar in words are near-duplicates."
    )
    repetitive_min_words: int = Field(
        12, ge=1, description="Source text this long or longer can be judged repetitive..."
    )
    repetitive_unique_share: float = Field(
        0.5, gt=0, le=1, description="...when fewer than this share of its words are distinct."
    )

    def asking_meaning(self, audience: str) -> float:
        """The asking sentences' share of the question vector, for this audience."""
        if audience == "clinician":
            return self.clinician_asking_meaning
        return self.patient_asking_meaning


class PatientTuning(_Section):
    max_facts: int = Field(3, ge=1, le=20, description="Most threshold figures in one answer.")
    grade_target: float = Field(
        8.0, ge=1, le=20, description="Sentences above this reading grade are penalised..."
    )
    grade_penalty: float = Field(
        0.15, ge=0, le=5, description="...by 1 + this x the grades above the target."
    )
    max_sentence_grade: float = Field(
        14.0,
        ge=1,
        le=30,
        description="A sentence harder than this is left out unless it is the most relevant.",
    )
    max_sentence_words: int = Field(40, ge=5, description="So is one longer than this.")
    patient_source_boost: float = Field(
        1.3, ge=1, le=5, description="A patient document's sentence scores this many times more."
    )
    answer_grade: float = Field(
        9.0,
        ge=1,
        le=20,
        description="A patient answer's lines together read at this grade or below: the "
        "hardest optional sentences are left out until they do.",
    )
    list_grade: float = Field(
        9.8,
        ge=1,
        le=30,
        description="A sentence ending in a long series that reads above this grade shows, in "
        "a patient answer, as its lead-in and items on lines of their own (the words as "
        "written). 9.8, the answer grade: only a line too hard for the answer is laid out.",
    )
    lead_share: float = Field(
        0.7,
        ge=0,
        le=1,
        description="A patient source whose best sentence scores at least this share of the "
        "best answers the question: its sentences come first.",
    )
    framed_share: float = Field(
        0.3,
        ge=0,
        le=1,
        description="A fact filling at least this share of its sentence is shown alone, under "
        "its plain lead-in.",
    )


class RoutingTuning(_Section):
    smoothing: float = Field(
        0.5,
        gt=0,
        le=10,
        description="Pseudo-count added to every word's count in the clinician and the patient "
        "documents before a word's lean (log-odds) is taken: rare words lean less.",
    )
    word_cap: float = Field(
        2.0, gt=0, le=10, description="No single word's lean counts for more than this."
    )
    backoff_length: int = Field(
        7,
        ge=3,
        le=40,
        description="A word the corpus lacks, at least this long, borrows the lean of a known "
        "form of it ('neurodegeneration' ~ 'neurodegenerative'); shorter words borrow nothing.",
    )
    density_weight: float = Field(
        1.25,
        ge=0,
        le=10,
        description="Clinician weight per unit of clinical density (the sum of the question's "
        "clinician-leaning word leans).",
    )
    noun_phrase_boost: float = Field(
        1.5,
        ge=0,
        le=10,
        description="A bare noun phrase ('Mechanisms of neurodegeneration': no verb, no person, "
        "no question word) counts its density (1 + this) times.",
    )
    abbreviation_weight: float = Field(
        1.0,
        ge=0,
        le=10,
        description="Clinician weight of each abbreviation the corpus never uses ('PFTs').",
    )
    register_offset: float = Field(
        1.0,
        ge=0,
        le=10,
        description="The register counts only above this: one drug name in a plain sentence "
        "('Does riluzole cure ALS?') is not a clinician's register.",
    )
    max_register: float = Field(
        3.0,
        ge=0,
        le=20,
        description="The register adds at most this, so a caregiver ('my husband') quoting the "
        "clinic's words stays a patient unless clinician phrasing says otherwise.",
    )
    clinician_grade: float = Field(
        8.5,
        ge=0,
        le=30,
        description="A question with no patient words, too weak to decide, written at this "
        "Flesch-Kincaid grade or above reads as a clinician's ('Which look-alike conditions "
        "are most often behind the long lag before the diagnosis is made?'); below it the weak "
        "default holds ('is als curable').",
    )
    example_k: int = Field(
        5,
        ge=1,
        le=50,
        description="A question too weak to decide is compared with this many nearest labelled "
        "questions (rules/routing_examples.yaml), by the embedding model.",
    )
    example_share: float = Field(
        0.6,
        ge=0.5,
        le=1.0,
        description="Those nearest examples decide when at least this share of them "
        "(weighted by similarity) is of one audience; below it the weak default holds.",
    )
    example_min_similarity: float = Field(
        0.3,
        ge=0,
        le=1,
        description="The examples say nothing unless the nearest is at least this similar "
        "(cosine): a greeting or an off-topic task is like none of them.",
    )


class LLMTuning(_Section):
    max_retrieved: int = Field(
        6, ge=1, le=50, description="Top retrieved passages a model sees (plus the fact passages)."
    )


class Tuning(_Section):
    """All tuning, by stage."""

    retrieval: RetrievalTuning = RetrievalTuning()
    scope: ScopeTuning = ScopeTuning()
    compose: ComposeTuning = ComposeTuning()
    patient: PatientTuning = PatientTuning()
    routing: RoutingTuning = RoutingTuning()
    llm: LLMTuning = LLMTuning()
