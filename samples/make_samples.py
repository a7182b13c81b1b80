#!/usr/bin/env python3
"""Make the bundled demo data: invented PubMed and PMC records (stdlib only, deterministic).

    python3 samples/make_samples.py          # from the repository root, or from samples/

Writes, next to this script:
    pubmed/demo_baseline.xml.gz   40 PubmedArticle records, PMIDs 35000001-35000040
    pubmed/demo_update.xml        5 PubmedArticle records (3 new, 2 revised) + a DeleteCitation
    pmc/PMC9500001.nxml ..        3 full-text JATS articles (the PMC versions of PMIDs 35000001-3)

Every title, abstract, author, affiliation, journal, DOI and identifier is invented. The sentences
are composed from templates over real disease, drug and gene names so that a biomedical NER model
finds obvious mentions ("Metformin reduced the expression of IL-6 in patients with type 2
diabetes."). MeSH descriptor names/UIs and publication types are used as NLM uses them. Running the
script twice gives byte-identical files (string seeds, no dict-order or hash dependence, gzip
mtime 0).
"""
import gzip
import os
import random
from xml.sax.saxutils import escape

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20250101

PUBMED_DOCTYPE = ('<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
                  '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">')
JATS_DOCTYPE = ('<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Archiving and Interchange DTD '
                'with MathML3 v1.3 20210610//EN" "JATS-archivearticle1-3-mathml3.dtd">')

# ---------------------------------------------------------------- vocabulary (real-world names)

# drug as written in text -> (MeSH descriptor, MeSH UI, UNII registry number)
CHEMICALS = {
    "metformin": ("Metformin", "D008687", "9100L32L2N"),
    "insulin glargine": ("Insulin Glargine", "D000069036", "2ZM8CX04RZ"),
    "atorvastatin": ("Atorvastatin", "D000069059", "A0JWA85V8F"),
    "cisplatin": ("Cisplatin", "D002945", "Q20Q21Q62J"),
    "gefitinib": ("Gefitinib", "D000077156", "S65743JHBS"),
    "paclitaxel": ("Paclitaxel", "D017239", "P88XT4IS4D"),
    "tamoxifen": ("Tamoxifen", "D013629", "094ZI81Y45"),
    "doxorubicin": ("Doxorubicin", "D004317", "80168379AG"),
    "aspirin": ("Aspirin", "D001241", "R16CO5Y76E"),
    "donepezil": ("Donepezil", "D000077265", "8SSC91326P"),
    "budesonide": ("Budesonide", "D019819", "Q3OKS62Q6X"),
    "albuterol": ("Albuterol", "D000420", "QF8SVZ843E"),
    "dexamethasone": ("Dexamethasone", "D003907", "7S5I7G3JQL"),
    "sorafenib": ("Sorafenib", "D000077157", "9ZOQ3TZI87"),
    "oxaliplatin": ("Oxaliplatin", "D000077150", "04ZR38536J"),
    "methotrexate": ("Methotrexate", "D008727", "YL5FZ2Y5U1"),
    "levodopa": ("Levodopa", "D007980", "46627O600J"),
    "amantadine": ("Amantadine", "D000547", "BF4C9Z1J53"),
}

# gene/protein symbol as written in text -> (MeSH substance, MeSH UI, kind)
# kind "soluble": measured in serum/sputum; "variant": studied through mutations or genotypes
GENES = {
    "BRCA1": ("BRCA1 Protein", "D019313", "variant"),
    "TP53": ("Tumor Suppressor Protein p53", "D016159", "variant"),
    "HER2": ("Receptor, ErbB-2", "D018719", "variant"),
    "EGFR": ("ErbB Receptors", "D066246", "variant"),
    "KRAS": ("Proto-Oncogene Proteins p21(ras)", "D016283", "variant"),
    "APOE": ("Apolipoproteins E", "D001057", "variant"),
    "LRRK2": ("Leucine-Rich Repeat Serine-Threonine Protein Kinase-2", "D000076222", "variant"),
    "SNCA": ("alpha-Synuclein", "D051844", "variant"),
    "TNF-alpha": ("Tumor Necrosis Factor-alpha", "D014409", "soluble"),
    "IL-6": ("Interleukin-6", "D015850", "soluble"),
    "IL-13": ("Interleukin-13", "D018793", "soluble"),
    "VEGF-A": ("Vascular Endothelial Growth Factor A", "D042461", "soluble"),
}

# invented journals: title, ISO abbreviation, ISSN, NLM unique id, country
JOURNALS = {
    "onc": ("Journal of translational oncology reports", "J Transl Oncol Rep", "2399-1001", "101790001", "England"),
    "endo": ("Clinical endocrinology and metabolism letters", "Clin Endocrinol Metab Lett", "2399-1002", "101790002", "United States"),
    "neuro": ("Neurodegeneration research", "Neurodegener Res", "2399-1003", "101790003", "Netherlands"),
    "resp": ("Respiratory and allergy medicine", "Respir Allergy Med", "2399-1004", "101790004", "Germany"),
    "gi": ("Hepatology and gastroenterology today", "Hepatol Gastroenterol Today", "2399-1005", "101790005", "Switzerland"),
    "rheum": ("Rheumatology open", "Rheumatol Open", "2399-1006", "101790006", "United States"),
    "gen": ("Open clinical science reports", "Open Clin Sci Rep", "2399-1007", "101790007", "England"),
}

# disease as written in text, MeSH descriptor, UI, drugs, genes, population, journal key
TOPICS = [
    ("breast cancer", "Breast Neoplasms", "D001943",
     ["tamoxifen", "doxorubicin", "paclitaxel"], ["BRCA1", "TP53", "HER2", "IL-6"], "women", "onc"),
    ("type 2 diabetes", "Diabetes Mellitus, Type 2", "D003924",
     ["metformin", "insulin glargine", "atorvastatin"], ["IL-6", "TNF-alpha"], "adults", "endo"),
    ("Alzheimer's disease", "Alzheimer Disease", "D000544",
     ["donepezil", "aspirin"], ["APOE", "IL-6", "TNF-alpha"], "older adults", "neuro"),
    ("asthma", "Asthma", "D001249",
     ["budesonide", "albuterol", "dexamethasone"], ["IL-13", "IL-6", "TNF-alpha"], "children", "resp"),
    ("hepatocellular carcinoma", "Carcinoma, Hepatocellular", "D006528",
     ["sorafenib", "doxorubicin", "metformin"], ["TP53", "VEGF-A"], "patients", "gi"),
    ("non-small cell lung cancer", "Carcinoma, Non-Small-Cell Lung", "D002289",
     ["cisplatin", "gefitinib", "paclitaxel"], ["EGFR", "KRAS", "TP53"], "patients", "onc"),
    ("colorectal cancer", "Colorectal Neoplasms", "D015179",
     ["aspirin", "oxaliplatin"], ["KRAS", "TP53", "VEGF-A"], "patients", "gi"),
    ("rheumatoid arthritis", "Arthritis, Rheumatoid", "D001172",
     ["methotrexate", "dexamethasone"], ["TNF-alpha", "IL-6"], "adults", "rheum"),
    ("Parkinson's disease", "Parkinson Disease", "D010300",
     ["levodopa", "amantadine"], ["LRRK2", "SNCA"], "patients", "neuro"),
]

QUALIFIERS = {
    "therapeutic use": "Q000627", "pharmacology": "Q000494", "genetics": "Q000235",
    "metabolism": "Q000378", "drug therapy": "Q000188", "blood": "Q000097",
    "adverse effects": "Q000009",
}
CHECK_TAGS = [("Humans", "D006801"), ("Female", "D005260"), ("Male", "D008297"),
              ("Middle Aged", "D008875"), ("Aged", "D000368"), ("Adult", "D000328"),
              ("Treatment Outcome", "D016896")]

FIRST = ["Anna", "Jonas", "Mei", "Carlos", "Fatima", "Olusegun", "Ingrid", "Raj", "Sofía", "Yuki",
         "Élodie", "Tomasz", "Leila", "Mateo", "Chiara", "Kwame", "Hanna", "Arjun", "Zoë", "Björn"]
LAST = ["Schneider", "Nakamura", "García", "Okafor", "Lindqvist", "Patel", "Rossi", "Kowalski",
        "Haddad", "Chen", "Dubois", "Müller", "Adeyemi", "Novak", "Fernández", "Kim", "Jensen",
        "Søndergaard", "O'Connor", "Ivanova"]
AFFILIATIONS = [
    "Department of Medical Oncology, Westbrook University Medical Centre, Westbrook, Netherlands.",
    "Institute of Clinical Pharmacology, Universität Nordstadt, Nordstadt, Germany.",
    "Division of Endocrinology, Cedar Coast University Hospital, Portmere, Canada.",
    "Memory Clinic, Halvard University Hospital, Halvard, Norway.",
    "Department of Respiratory Medicine, Greenhill Royal Infirmary, Greenhill, United Kingdom.",
    "Centre for Liver Research, Instituto de Biomedicina de Valdemora, Valdemora, Spain.",
    "Department of Rheumatology, Eastport Medical College, Eastport, USA.",
    "Laboratory of Molecular Genetics, Sakura Institute of Science, Minato, Japan.",
]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

# ---------------------------------------------------------------- sentence templates
# (requirement, template); requirement: "any", a gene kind ("soluble"/"variant"), or "two" (needs
# a second drug). Title templates also carry the design they imply ("rct"/"cohort"/None).

BACKGROUND = [
    ("any", "{Disease} remains a leading cause of morbidity, and {gene} has been implicated in its progression."),
    ("variant", "Mutations in {gene} increase the risk of {disease}."),
    ("variant", "{Gene} variants have been linked to the response to {chem} in {disease}."),
    ("soluble", "Elevated {gene} is associated with poor outcomes in {disease}, but whether {chem} modifies this association is unknown."),
    ("any", "{Chem} is widely used in {disease}, yet its effect on {gene} signalling has not been studied in {pop}."),
]
METHODS_RCT = [
    ("any", "We enrolled {n} {pop} with {disease} and randomly assigned them to {chem} or placebo for {weeks} weeks."),
]
METHODS_COHORT = [
    ("soluble", "In a prospective cohort of {n} {pop} with {disease}, we measured serum {gene} before and after treatment with {chem}."),
    ("variant", "We genotyped {gene} in {n} {pop} with {disease} who started treatment with {chem}."),
    ("any", "We analysed samples from {n} {pop} with {disease} for {gene} expression and response to {chem}."),
]
RESULTS = [
    ("any", "{Chem} reduced the expression of {gene} in patients with {disease}."),
    ("soluble", "Serum {gene} concentrations were elevated in patients with {disease} compared with healthy controls (P = {p})."),
    ("two", "{Chem} combined with {chem2} improved clinical outcomes in {disease} (hazard ratio {hr})."),
    ("any", "Inhibition of {gene} enhanced the response to {chem} in experimental models of {disease}."),
    ("soluble", "{Chem} treatment was associated with lower {gene} levels and fewer complications of {disease}."),
    ("variant", "Patients carrying {gene} variants responded less well to {chem} than non-carriers (odds ratio {hr})."),
    ("any", "Adverse events were mild, and {chem} was well tolerated."),
]
CONCLUSIONS = [
    ("any", "These findings suggest that {gene} is a therapeutic target in {disease}."),
    ("soluble", "{Chem} may benefit {pop} with {disease} who have high {gene} levels."),
    ("variant", "{Gene} status should be considered when {chem} is prescribed for {disease}."),
]
TITLES = [
    ("soluble", "rct", "{Chem} lowers {gene} in {pop} with {disease}: a randomised trial"),
    ("any", "rct", "{Chem} versus placebo in {pop} with {disease}: effects on {gene}"),
    ("any", "cohort", "{Gene} expression predicts response to {chem} in {disease}"),
    ("any", None, "Effect of {chem} on {gene} signalling in {disease}"),
    ("two", "cohort", "{Chem} and {chem2} in {disease}: a prospective cohort study"),
    ("soluble", "cohort", "Serum {gene} as a biomarker of {disease} progression during {chem} therapy"),
    ("variant", "cohort", "{Gene} variants and response to {chem} in {pop} with {disease}"),
    ("variant", "cohort", "{Gene} status and outcomes of {chem} therapy in {disease}"),
]


def cap(s):
    return s[0].upper() + s[1:]


class Gen:
    """Random choices for one record; seeded by a string, so records do not depend on each other."""

    def __init__(self, seed):
        self.r = random.Random(seed)

    def context(self, topic):
        disease, _, _, chems, genes, pop, _ = topic
        chem = self.r.choice(chems)
        others = [c for c in chems if c != chem]
        gene = self.r.choice(genes)
        return {
            "disease": disease, "chem": chem, "chem2": self.r.choice(others) if others else None,
            "gene": gene, "kind": GENES[gene][2], "pop": pop,
            "n": self.r.randrange(40, 1200), "weeks": self.r.choice([12, 24, 26, 52]),
            "p": self.r.choice(["0.001", "0.003", "0.02", "0.04"]),
            "hr": "{:.2f}".format(self.r.uniform(0.45, 0.9)),
        }

    @staticmethod
    def fits(req, ctx):
        return req == "any" or req == ctx["kind"] or (req == "two" and ctx["chem2"] is not None)

    @staticmethod
    def fill(template, ctx):
        c = dict(ctx)
        c.update(Disease=cap(ctx["disease"]), Chem=cap(ctx["chem"]), Gene=ctx["gene"])
        return template.format(**c)

    def sentences(self, pool, ctx, k):
        fitting = [t for req, t in pool if self.fits(req, ctx)]
        return [self.fill(t, ctx) for t in self.r.sample(fitting, min(k, len(fitting)))]

    def title(self, ctx):
        req, design, t = self.r.choice([t for t in TITLES if self.fits(t[0], ctx)])
        return self.fill(t, ctx), design

    def authors(self):
        out = []
        for _ in range(self.r.randint(1, 5)):
            first, last = self.r.choice(FIRST), self.r.choice(LAST)
            out.append((last, first, first[0], self.r.sample(AFFILIATIONS, self.r.choice([1, 1, 2]))))
        return out


def compose(seed, avoid):
    """Topic, context, title and abstract parts for one article; re-rolls until the title is new."""
    for attempt in range(100):
        g = Gen("{}-{}".format(seed, attempt))
        topic = g.r.choice(TOPICS)
        ctx = g.context(topic)
        title, design = g.title(ctx)
        if title not in avoid:
            break
    methods = METHODS_RCT if design == "rct" else METHODS_COHORT
    parts = [("BACKGROUND", g.sentences(BACKGROUND, ctx, 2)),
             ("METHODS", g.sentences(methods, ctx, 1)),
             ("RESULTS", g.sentences(RESULTS, ctx, 3)),
             ("CONCLUSIONS", g.sentences(CONCLUSIONS, ctx, 1))]
    return g, topic, ctx, title, design, parts


# ---------------------------------------------------------------- MEDLINE writer


def el(tag, text, **attrs):
    a = "".join(' {}="{}"'.format(k, escape(str(v), {'"': "&quot;"})) for k, v in attrs.items())
    return "<{0}{1}>{2}</{0}>".format(tag, a, escape(str(text)))


def make_record(pmid, index, avoid, pmcid=None, revised=False, retracted=False, year=None):
    """One PubmedArticle. Its content depends only on the PMID and the titles to avoid, so a revised
    version (as an update file carries it) repeats the baseline record with a later DateRevised and
    one more MeSH heading."""
    g, topic, ctx, title, design, parts = compose("{}-{}".format(SEED, pmid), avoid)
    disease, mesh_name, mesh_ui, _, _, _, journal_key = topic
    journal = JOURNALS["gen"] if g.r.random() < 0.25 else JOURNALS[journal_key]
    year = year or 2018 + index % 8
    month = g.r.randrange(1, 13)
    day = g.r.randrange(1, 29)
    doi = "10.5555/demo.{}.{}".format(year, pmid)
    structured = index % 5 in (0, 2)
    title_xml = escape(title)
    if index % 4 == 1:  # gene symbols in italics, as MEDLINE titles often have them
        title_xml = title_xml.replace(ctx["gene"], "<i>{}</i>".format(ctx["gene"]))
    title_xml += "."

    ind = "    "
    x = ["<PubmedArticle>"]
    status = "MEDLINE" if year < 2025 else "PubMed-not-MEDLINE"
    x.append(ind + '<MedlineCitation Status="{}" Owner="NLM" IndexingMethod="Automated">'.format(status))
    x.append(ind * 2 + el("PMID", pmid, Version="1"))
    done = (year + (month == 12), month % 12 + 1)  # MEDLINE indexing completes about a month later
    if status == "MEDLINE":
        x.append(ind * 2 + "<DateCompleted><Year>{}</Year><Month>{:02d}</Month><Day>{:02d}</Day></DateCompleted>"
                 .format(done[0], done[1], day))
    rev = (2025, 3) if revised else done if status == "MEDLINE" else (year, month)
    x.append(ind * 2 + "<DateRevised><Year>{}</Year><Month>{:02d}</Month><Day>{:02d}</Day></DateRevised>"
             .format(rev[0], rev[1], day))
    x.append(ind * 2 + '<Article PubModel="Print-Electronic">')
    x.append(ind * 3 + "<Journal>")
    x.append(ind * 4 + el("ISSN", journal[2], IssnType="Electronic"))
    x.append(ind * 4 + '<JournalIssue CitedMedium="Internet">')
    x.append(ind * 5 + el("Volume", year - 2010) + el("Issue", g.r.randrange(1, 13)))
    x.append(ind * 5 + "<PubDate><Year>{}</Year><Month>{}</Month></PubDate>".format(year, MONTHS[month - 1]))
    x.append(ind * 4 + "</JournalIssue>")
    x.append(ind * 4 + el("Title", journal[0]))
    x.append(ind * 4 + el("ISOAbbreviation", journal[1]))
    x.append(ind * 3 + "</Journal>")
    x.append(ind * 3 + "<ArticleTitle>{}</ArticleTitle>".format(title_xml))
    first_page = g.r.randrange(1, 900)
    x.append(ind * 3 + "<Pagination>" + el("MedlinePgn", "{}-{}".format(first_page, first_page + g.r.randrange(5, 14)))
             + "</Pagination>")
    x.append(ind * 3 + el("ELocationID", doi, EIdType="doi", ValidYN="Y"))
    x.append(ind * 3 + "<Abstract>")
    if structured:
        for label, sents in parts:
            x.append(ind * 4 + el("AbstractText", " ".join(sents), Label=label, NlmCategory=label))
    else:
        x.append(ind * 4 + el("AbstractText", " ".join(s for _, ss in parts for s in ss)))
    x.append(ind * 4 + el("CopyrightInformation", "© {} The Authors.".format(year)))
    x.append(ind * 3 + "</Abstract>")
    x.append(ind * 3 + '<AuthorList CompleteYN="Y">')
    authors = g.authors()
    for last, first, initials, affs in authors:
        x.append(ind * 4 + '<Author ValidYN="Y">' + el("LastName", last) + el("ForeName", first) + el("Initials", initials)
                 + "".join("<AffiliationInfo>" + el("Affiliation", a) + "</AffiliationInfo>" for a in affs) + "</Author>")
    x.append(ind * 3 + "</AuthorList>")
    x.append(ind * 3 + el("Language", "eng"))
    x.append(ind * 3 + "<PublicationTypeList>")
    x.append(ind * 4 + el("PublicationType", "Journal Article", UI="D016428"))
    if design == "rct":
        x.append(ind * 4 + el("PublicationType", "Randomized Controlled Trial", UI="D016449"))
    if retracted:
        x.append(ind * 4 + el("PublicationType", "Retracted Publication", UI="D016441"))
    x.append(ind * 3 + "</PublicationTypeList>")
    x.append(ind * 3 + '<ArticleDate DateType="Electronic"><Year>{}</Year><Month>{:02d}</Month><Day>{:02d}</Day></ArticleDate>'
             .format(year, month, day))
    x.append(ind * 2 + "</Article>")
    x.append(ind * 2 + "<MedlineJournalInfo>" + el("Country", journal[4]) + el("MedlineTA", journal[1])
             + el("NlmUniqueID", journal[3]) + el("ISSNLinking", journal[2]) + "</MedlineJournalInfo>")

    # chemicals: the drugs named in the text and the gene product
    text = (title + " " + " ".join(s for _, ss in parts for s in ss)).lower()
    chems = sorted(c for c in {ctx["chem"], ctx["chem2"]} if c and c in text)
    gene_name, gene_ui, _ = GENES[ctx["gene"]]
    entries = [(CHEMICALS[c][2], CHEMICALS[c][0], CHEMICALS[c][1]) for c in chems] + [("0", gene_name, gene_ui)]
    x.append(ind * 2 + "<ChemicalList>")
    for reg, name, ui in sorted(entries, key=lambda e: e[1].lower()):
        x.append(ind * 3 + "<Chemical>" + el("RegistryNumber", reg) + el("NameOfSubstance", name, UI=ui) + "</Chemical>")
    x.append(ind * 2 + "</ChemicalList>")
    if status == "MEDLINE":
        x.append(ind * 2 + el("CitationSubset", "IM"))
    if retracted:
        x.append(ind * 2 + '<CommentsCorrectionsList><CommentsCorrections RefType="RetractionIn">'
                 + el("RefSource", "{}. 2025 Jan;{}(1):1".format(journal[1], 2025 - 2010))
                 + el("PMID", 35000099, Version="1") + "</CommentsCorrections></CommentsCorrectionsList>")
    if status == "MEDLINE":
        headings = [(mesh_name, mesh_ui, "Y", [g.r.choice(["drug therapy", "genetics", "metabolism", "blood"])])]
        for c in chems:
            headings.append((CHEMICALS[c][0], CHEMICALS[c][1], "N",
                             [g.r.choice(["therapeutic use", "pharmacology", "adverse effects"])]))
        headings.append((gene_name, gene_ui, "N", ["genetics" if ctx["kind"] == "variant" else "blood"]))
        headings += [(n, u, "N", []) for n, u in g.r.sample(CHECK_TAGS, 3)]
        if revised:
            headings.append(("Biomarkers", "D015415", "N", ["blood"]))
        x.append(ind * 2 + "<MeshHeadingList>")
        seen = set()
        for name, ui, major, quals in sorted(headings, key=lambda h: h[0].lower()):
            if ui in seen:
                continue
            seen.add(ui)
            q = "".join(el("QualifierName", qn, UI=QUALIFIERS[qn],
                           MajorTopicYN="Y" if major == "N" and i == 0 and index % 2 else "N")
                        for i, qn in enumerate(quals))
            x.append(ind * 3 + "<MeshHeading>" + el("DescriptorName", name, UI=ui, MajorTopicYN=major) + q + "</MeshHeading>")
        x.append(ind * 2 + "</MeshHeadingList>")
    if index % 3 != 2:
        kws = sorted({disease, ctx["chem"], ctx["gene"]}, key=str.lower)
        x.append(ind * 2 + '<KeywordList Owner="NOTNLM">' + "".join(el("Keyword", k, MajorTopicYN="N") for k in kws)
                 + "</KeywordList>")
    x.append(ind + "</MedlineCitation>")
    x.append(ind + "<PubmedData>")
    x.append(ind * 2 + "<History>")
    received = (year - (month <= 3), (month - 4) % 12 + 1)
    history = [("received", received[0], received[1], day), ("accepted", year, month, max(1, day - 2)),
               ("entrez", year, month, day), ("pubmed", year, month, day)]
    if status == "MEDLINE":
        history.append(("medline", done[0], done[1], day))
    if retracted:
        history.append(("retracted", 2025, 1, 15))
    for status_name, y, m, d in history:
        x.append(ind * 3 + '<PubMedPubDate PubStatus="{}"><Year>{}</Year><Month>{}</Month><Day>{}</Day></PubMedPubDate>'
                 .format(status_name, y, m, d))
    x.append(ind * 2 + "</History>")
    x.append(ind * 2 + el("PublicationStatus", "ppublish"))
    x.append(ind * 2 + "<ArticleIdList>")
    x.append(ind * 3 + el("ArticleId", pmid, IdType="pubmed"))
    x.append(ind * 3 + el("ArticleId", doi, IdType="doi"))
    if pmcid:
        x.append(ind * 3 + el("ArticleId", pmcid, IdType="pmc"))
    x.append(ind * 2 + "</ArticleIdList>")
    x.append(ind + "</PubmedData>")
    x.append("</PubmedArticle>")
    meta = {"topic": topic, "ctx": ctx, "title": title, "parts": parts, "journal": journal,
            "year": year, "month": month, "day": day, "doi": doi, "authors": authors}
    return "\n".join(x) + "\n", meta


def pubmed_set(records, trailer=""):
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + PUBMED_DOCTYPE + "\n<PubmedArticleSet>\n"
            + "".join(records) + trailer + "</PubmedArticleSet>\n")


# ---------------------------------------------------------------- JATS writer


def jats_article(pmid, pmcid, meta):
    """Full text of a baseline article: same title, topic and findings, with a body."""
    digits = int(pmcid[3:])
    g = Gen("{}-{}".format(SEED, pmcid))
    topic, c, title, journal, year, doi = (meta[k] for k in ("topic", "ctx", "title", "journal", "year", "doi"))
    disease, _, _, _, genes, pop, _ = topic
    authors = meta["authors"]
    affs = []
    for _, _, _, aa in authors:
        affs += [a for a in aa if a not in affs]
    aff_id = {a: "aff{}".format(i + 1) for i, a in enumerate(affs)}

    def para(pool, k, ctx=c):
        return "<p>" + escape(" ".join(g.sentences(pool, ctx, k))) + "</p>"

    contribs = "".join(
        '<contrib contrib-type="author"><name><surname>{}</surname><given-names>{}</given-names></name>{}</contrib>'.format(
            escape(last), escape(first),
            "".join('<xref ref-type="aff" rid="{0}">{1}</xref>'.format(aff_id[a], aff_id[a][3:]) for a in aa))
        for last, first, _, aa in authors)
    aff_xml = "".join('<aff id="{}"><label>{}</label>{}</aff>'.format(aff_id[a], aff_id[a][3:], escape(a.rstrip(".")))
                      for a in affs)
    rows = "".join("<tr><td>{}</td><td>{:.1f}</td><td>{:.1f}</td></tr>".format(
        escape(gn), g.r.uniform(0.3, 1.2), g.r.uniform(0.8, 3.5)) for gn in genes)
    # one long Discussion paragraph (well over 512 word pieces) to exercise the sliding windows
    long_ctxs = [g.context(topic) for _ in range(6)]
    long_discussion = " ".join(s for k in long_ctxs for s in g.sentences(RESULTS + BACKGROUND + CONCLUSIONS, k, 7))
    abstract = "<abstract>" + "".join(
        "<sec><title>{}</title><p>{}</p></sec>".format(cap(label.lower()), escape(" ".join(sents)))
        for label, sents in meta["parts"]) + "</abstract>"
    body = (
        '<sec id="sec1"><title>Introduction</title>'
        + para(BACKGROUND, 2)
        + "<p>Earlier studies of {} in {} were small [<xref ref-type=\"bibr\" rid=\"B1\">1</xref>], and the role of "
          "<italic>{}</italic> remains debated [<xref ref-type=\"bibr\" rid=\"B2\">2</xref>].</p>".format(
              escape(c["chem"]), escape(disease), escape(c["gene"]))
        + "</sec>"
        + '<sec id="sec2" sec-type="methods"><title>Methods</title>'
        + '<sec id="sec2a"><title>Study population</title>' + "<p>{}</p>".format(escape(" ".join(meta["parts"][1][1])))
        + "</sec>"
        + '<sec id="sec2b"><title>Laboratory measurements</title><p>{} was measured by ELISA or sequencing as appropriate; '
          "serum concentrations are given in pg/ml (detection limit 0.5 pg/ml, CV &lt; 8%).</p></sec>".format(escape(c["gene"]))
        + "</sec>"
        + '<sec id="sec3" sec-type="results"><title>Results</title>'
        + "<p>{}</p>".format(escape(" ".join(meta["parts"][2][1])))
        + '<table-wrap id="T1" position="float"><label>Table 1</label><caption><p>Expression of candidate genes in '
          "{} {} with {} (fold change versus baseline).</p></caption><table frame=\"hsides\" rules=\"groups\">"
          "<thead><tr><th>Gene</th><th>{}</th><th>Placebo</th></tr></thead><tbody>{}</tbody></table></table-wrap>".format(
              c["n"], escape(pop), escape(disease), escape(cap(c["chem"])), rows)
        + '<fig id="F1" position="float"><label>Figure 1</label><caption><title>{} during treatment.</title>'
          "<p>{} in {} treated with {} (mean ± SD).</p></caption><graphic xlink:href=\"PMC{}-g001\"/></fig>".format(
              escape(c["gene"]), escape(c["gene"]), escape(pop), escape(c["chem"]), digits)
        + "</sec>"
        + '<sec id="sec4" sec-type="discussion"><title>Discussion</title><p>' + escape(long_discussion) + "</p>"
        + "<p>{}</p>".format(escape(" ".join(meta["parts"][3][1]))) + "</sec>"
    )
    refs = "".join(
        '<ref id="B{0}"><label>{0}</label><element-citation publication-type="journal"><person-group person-group-type="author">'
        "<name><surname>{1}</surname><given-names>{2}</given-names></name><etal/></person-group>"
        "<article-title>{3}</article-title><source>{4}</source><year>{5}</year>"
        '<pub-id pub-id-type="pmid">{6}</pub-id></element-citation></ref>'.format(
            i + 1, escape(g.r.choice(LAST)), g.r.choice(FIRST)[0], escape(g.title(g.context(topic))[0]),
            escape(journal[1]), year - 2 - i, 35000080 + 2 * (digits % 100) + i)
        for i in range(2))
    kwds = "".join("<kwd>{}</kwd>".format(escape(k)) for k in sorted({disease, c["chem"], c["gene"]}, key=str.lower))
    return (
        JATS_DOCTYPE + "\n"
        + '<article xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:mml="http://www.w3.org/1998/Math/MathML" '
          'article-type="research-article" dtd-version="1.3" xml:lang="en"><?properties open_access?>'
        + "<front><journal-meta>"
        + '<journal-id journal-id-type="nlm-ta">{}</journal-id>'.format(escape(journal[1]))
        + "<journal-title-group><journal-title>{}</journal-title></journal-title-group>".format(escape(cap(journal[0])))
        + '<issn pub-type="epub">{}</issn><publisher><publisher-name>Demo Medical Press</publisher-name></publisher>'.format(journal[2])
        + "</journal-meta>\n<article-meta>"
        + '<article-id pub-id-type="pmid">{}</article-id>'.format(pmid)
        + '<article-id pub-id-type="pmc">{}</article-id>'.format(digits)
        + '<article-id pub-id-type="doi">{}</article-id>'.format(doi)
        + '<article-categories><subj-group subj-group-type="heading"><subject>Research Article</subject></subj-group></article-categories>'
        + "<title-group><article-title>{}</article-title></title-group>".format(escape(title))
        + "<contrib-group>{}</contrib-group>{}".format(contribs, aff_xml)
        + '<pub-date pub-type="epub"><day>{}</day><month>{}</month><year>{}</year></pub-date>'.format(
            meta["day"], meta["month"], year)
        + "<volume>{}</volume><fpage>{}</fpage><lpage>{}</lpage>".format(year - 2010, 100, 112)
        + "<permissions><copyright-statement>© {0} The Authors</copyright-statement><copyright-year>{0}</copyright-year>"
          '<license license-type="open-access" xlink:href="https://creativecommons.org/licenses/by/4.0/">'
          "<license-p>Distributed under the Creative Commons Attribution License.</license-p></license></permissions>".format(year)
        + abstract
        + '<kwd-group kwd-group-type="author">{}</kwd-group>'.format(kwds)
        + "</article-meta></front>\n<body>" + body + "</body>\n"
        + "<back><ack><p>Invented demo article generated by samples/make_samples.py.</p></ack>"
        + "<ref-list><title>References</title>" + refs + "</ref-list></back></article>\n"
    )


# ---------------------------------------------------------------- main


def write(path, data, gz=False):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    raw = data.encode("utf-8")
    with open(path, "wb") as f:
        if gz:
            with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0) as g:
                g.write(raw)
        else:
            f.write(raw)


def pmcid_for(i):
    # the first three have full text in samples/pmc; a few more are in PMC without a bundled file
    return "PMC{}".format(9500001 + i) if i < 3 or i % 6 == 5 else None


def main():
    baseline, titles, avoid_at, full_text = [], set(), {}, {}
    for i in range(40):
        pmid = 35000001 + i
        avoid_at[pmid] = set(titles)
        rec, meta = make_record(pmid, i, avoid_at[pmid], pmcid=pmcid_for(i), retracted=(i == 17))
        baseline.append(rec)
        titles.add(meta["title"])
        if i < 3:
            full_text[pmid] = (pmcid_for(i), meta)
    write(os.path.join(HERE, "pubmed", "demo_baseline.xml.gz"), pubmed_set(baseline), gz=True)

    # update file: 3 new citations, 2 revised versions of baseline citations, 2 deletions
    update = []
    for j, pmid in enumerate([35000041, 35000042, 35000043]):
        rec, meta = make_record(pmid, 40 + j, titles, year=2025)
        update.append(rec)
        titles.add(meta["title"])
    for pmid in (35000005, 35000012):
        i = pmid - 35000001
        update.append(make_record(pmid, i, avoid_at[pmid], pmcid=pmcid_for(i), revised=True)[0])
    deletes = "<DeleteCitation>\n" + "".join(
        '    <PMID Version="1">{}</PMID>\n'.format(p) for p in (35000007, 35000019)) + "</DeleteCitation>\n"
    write(os.path.join(HERE, "pubmed", "demo_update.xml"), pubmed_set(update, deletes))

    for pmid, (pmcid, meta) in sorted(full_text.items()):
        write(os.path.join(HERE, "pmc", pmcid + ".nxml"), jats_article(pmid, pmcid, meta))


if __name__ == "__main__":
    main()
