#!/usr/bin/env python3
"""Generated labelled text for the demo models of make_test_models.py (stdlib only, deterministic).

Templated sentences over lists of disease, chemical and gene names: those of samples/make_samples.py
(so that the demo models find the mentions in the bundled sample abstracts) and more, for some
generalisation. Every choice comes from a random.Random seeded by a string, so a data set depends
only on its seed.
"""
import gzip
import importlib.util
import os
import random
import re
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# ---------------------------------------------------------------- vocabulary


def load_samples_module():
    """samples/make_samples.py holds the names and sentence templates of the bundled demo data."""
    path = os.path.join(ROOT, "samples", "make_samples.py")
    spec = importlib.util.spec_from_file_location("make_samples", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


S = load_samples_module()

SAMPLE_DISEASES = sorted({t[0] for t in S.TOPICS})
SAMPLE_CHEMICALS = sorted(S.CHEMICALS)
SAMPLE_GENES = sorted(S.GENES)

# more real names, for some generalisation beyond the sample data
EXTRA_DISEASES = [
    "lung cancer", "prostate cancer", "ovarian cancer", "gastric cancer", "melanoma", "glioblastoma",
    "acute myeloid leukemia", "chronic lymphocytic leukemia", "multiple myeloma", "multiple sclerosis",
    "Crohn's disease", "ulcerative colitis", "Sjögren's syndrome", "Behçet's disease", "Ménière's disease",
    "systemic lupus erythematosus", "psoriasis", "atopic dermatitis", "hypertension", "heart failure",
    "atrial fibrillation", "coronary artery disease", "chronic kidney disease", "obesity", "type 1 diabetes",
    "epilepsy", "schizophrenia", "major depressive disorder", "bipolar disorder", "Huntington's disease",
    "amyotrophic lateral sclerosis", "cystic fibrosis", "sickle cell disease", "osteoporosis",
    "osteoarthritis", "chronic obstructive pulmonary disease", "tuberculosis", "hepatitis C", "HIV infection",
    "COVID-19", "stroke", "myocardial infarction", "nonalcoholic fatty liver disease", "anemia",
    "diabetic nephropathy", "endometriosis", "pancreatitis",
]
EXTRA_CHEMICALS = [
    "simvastatin", "rosuvastatin", "ibuprofen", "naproxen", "warfarin", "heparin", "lithium",
    "valproic acid", "carbamazepine", "imatinib", "erlotinib", "osimertinib", "5-fluorouracil",
    "gemcitabine", "carboplatin", "docetaxel", "cyclophosphamide", "prednisone", "hydrocortisone",
    "fluticasone", "salbutamol", "montelukast", "sitagliptin", "empagliflozin", "pioglitazone",
    "lisinopril", "losartan", "amlodipine", "clopidogrel", "morphine", "haloperidol", "risperidone",
    "fluoxetine", "sertraline", "memantine", "rivastigmine", "resveratrol", "vitamin D",
    "N-acetylcysteine", "all-trans retinoic acid", "nitric oxide", "hydrogen peroxide", "nicotine",
    "caffeine", "bortezomib", "rapamycin", "everolimus", "hydroxychloroquine", "colchicine",
    "17β-estradiol",
]
EXTRA_GENES = [
    "PTEN", "MYC", "BRAF", "ALK", "CFTR", "HTT", "PIK3CA", "CDKN2A", "BRCA2", "ATM", "MLH1", "JAK2",
    "STAT3", "NF-κB", "β-catenin", "IL-1β", "TGF-β1", "IFN-γ", "IL-10", "IL-17A", "CXCL8", "CCL2",
    "PD-L1", "CTLA-4", "ESR1", "CYP2D6", "CYP3A4", "MTHFR", "APP", "PSEN1", "MAPT", "GBA", "SOD1",
    "C9orf72", "HLA-DRB1", "TCF7L2", "PPARG", "ADIPOQ", "MMP-9", "COX-2", "mTOR", "AKT1", "ERBB2",
    "HIF-1α", "p53", "Nrf2", "ABCB1", "FOXP3", "TLR4", "BCL2", "CASP3", "IL-1beta",
]
# never in training: used only to measure generalisation to unseen names
UNSEEN = {
    "Disease": ["pancreatic cancer", "migraine", "sepsis", "Graves' disease"],
    "Chemical": ["ketamine", "curcumin", "allopurinol", "tacrolimus"],
    "Gene": ["SIRT1", "NLRP3", "FTO", "KCNJ11"],
}

NAMES = {
    "Disease": (SAMPLE_DISEASES, EXTRA_DISEASES),
    "Chemical": (SAMPLE_CHEMICALS, EXTRA_CHEMICALS),
    "Gene": (SAMPLE_GENES, EXTRA_GENES),
}
TYPES = ["Chemical", "Disease", "Gene"]
NER_LABELS = ["O", "B-Chemical", "I-Chemical", "B-Disease", "I-Disease", "B-Gene", "I-Gene"]
GENE_LABELS = ["O", "B-Gene", "I-Gene"]
RE_LABELS = ["0", "1"]
TAGS = ["@GENE$", "@DISEASE$", "@CHEMICAL$"]
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
POPS = ["patients", "adults", "children", "women", "men", "older adults", "participants", "mice", "rats"]

# ---------------------------------------------------------------- templates
# Placeholders: {D} {D2} disease, {C} {C2} {C3} chemical, {G} {G2} {G3} gene; a trailing "c"
# ({Dc}, {Cc}) capitalises the first letter (sentence start); {pop} {n} {weeks} {p} {hr} {pct} are
# plain words and numbers.


def from_samples():
    """The templates of samples/make_samples.py, in this script's placeholders."""
    out = []
    for pool in (S.BACKGROUND, S.METHODS_RCT, S.METHODS_COHORT, S.RESULTS, S.CONCLUSIONS):
        out += [t for _, t in pool]
    out += [t for _, _, t in S.TITLES]
    out += [t + "." for _, _, t in S.TITLES]
    subst = {"{disease}": "{D}", "{Disease}": "{Dc}", "{chem}": "{C}", "{Chem}": "{Cc}", "{chem2}": "{C2}",
             "{gene}": "{G}", "{Gene}": "{G}"}
    res = []
    for t in out:
        for a, b in subst.items():
            t = t.replace(a, b)
        res.append(t)
    # the JATS full texts of samples/make_samples.py
    res += [
        "Earlier studies of {C} in {D} were small [1], and the role of {G} remains debated [2].",
        "{G} was measured by ELISA or sequencing as appropriate; serum concentrations are given in pg/ml "
        "(detection limit 0.5 pg/ml, CV < 8%).",
        "Expression of candidate genes in {n} {pop} with {D} (fold change versus baseline).",
        "Gene {Cc} Placebo {G} 0.8 1.9 {G2} 1.1 2.4",
        "{G} during treatment.",
        "{G} in {pop} treated with {C} (mean ± SD).",
    ]
    return res


NER_TEMPLATES = from_samples() + [
    "{G} expression was higher in {D} than in healthy controls.",
    "{Cc} inhibited {G} phosphorylation in {D} cell lines.",
    "We report a case of {D} treated with {C}.",
    "{Dc} and {D2} share genetic risk loci, including {G}.",
    "Polymorphisms of {G} and {G2} were associated with {D}.",
    "Treatment with {C}, {C2} or {C3} did not change {G} levels.",
    "{Cc}-induced toxicity was reduced by knockdown of {G}.",
    "{G}/{G2} signalling was activated in {D}.",
    "The {G} inhibitor {C} was tested in {n} {pop} with {D}.",
    "In {D}, {G} mutations were detected in {pct}% of tumours.",
    "Mutations in {G}, {G2} and {G3} were found in {D}.",
    "{G} is a tumour suppressor that is frequently lost in {D}.",
    "{Cc} and {C2} were compared in {D}",
    "Risk factors included {D} and {D2}",
    "{Dc} is a chronic inflammatory disease.",
    "Levels of {G} ({G2}) fell after {C} therapy.",
    "{Cc} ({n} mg/day) reduced {G} by {pct}% (P = {p}).",
    "Co-treatment with {C} and {C2} lowered {G} and {G2} expression in a model of {D}.",
    "Knockdown of {G} sensitised {D} cells to {C}, whereas {G2} overexpression conferred resistance.",
    "{G} {G2} and {G3} were differentially expressed in {D}.",
    "{Dc}, {D2} and {D3} were the most frequent comorbidities.",
    "{G}-positive {D} responded to {C}.",
    "The effect of {C} on {D} was independent of {G}.",
    "Background: {D} is common in {pop}.",
    "Methods: {n} {pop} received {C} for {weeks} weeks.",
    "Results: {G} fell in the {C} group (P = {p}).",
    "{G}",
    "{Cc}.",
    "{Dc}",
    "{G} and {D}.",
    # sentences without entities (and with words that could look like entities)
    "All participants provided written informed consent.",
    "The primary end point was overall survival at {weeks} weeks.",
    "Data were analysed with mixed-effects models in R version 4.3.",
    "Table 1 shows the baseline characteristics of {n} {pop}.",
    "Values are mean ± SD; P < 0.05 was considered significant.",
    "Samples were measured by ELISA in duplicate, and the CV was below 8%.",
    "Patients received placebo or usual care for {weeks} weeks.",
    "The study was approved by the ethics committee (ID 2019-044).",
    "Healthy controls were matched for age and sex.",
    "Adverse events were mild and resolved without treatment.",
    "Figure 2 shows the Kaplan-Meier curves; HR {hr}, 95% CI 0.41-0.93.",
    "We thank Dr. Müller and the staff of the Westbrook University Medical Centre.",
    "Gene Placebo Treatment Change Baseline",
    "PCR, RNA-seq and Western blot analyses were performed by an independent laboratory (BGI, Shenzhen).",
]

RE_POSITIVE = [
    "@GENE$ polymorphisms were associated with an increased risk of @DISEASE$.",
    "Mutations in @GENE$ increase the risk of @DISEASE$.",
    "The @GENE$ variant was significantly associated with @DISEASE$ (odds ratio {hr}).",
    "Carriers of the @GENE$ risk allele had a higher incidence of @DISEASE$.",
    "@GENE$ is a susceptibility gene for @DISEASE$.",
    "Our results suggest that @GENE$ contributes to the pathogenesis of @DISEASE$.",
    "Elevated @GENE$ is associated with poor outcomes in @DISEASE$.",
    "@DISEASE$ was strongly associated with the @GENE$ genotype (P = {p}).",
    "Genetic variation in @GENE$ may confer susceptibility to @DISEASE$ in {pop}.",
    "These findings suggest that @GENE$ is a therapeutic target in @DISEASE$.",
    "@GENE$ variants have been linked to @DISEASE$ in several cohorts.",
    "The risk of @DISEASE$ was higher among {pop} carrying @GENE$ mutations.",
    "@GENE$ overexpression promotes @DISEASE$ progression.",
    "Loss of @GENE$ function causes @DISEASE$.",
    "Serum @GENE$ concentrations were elevated in patients with @DISEASE$ compared with healthy controls (P = {p}).",
    "A common @GENE$ haplotype was associated with @DISEASE$ in {n} {pop}, independently of {C} use.",
]
RE_NEGATIVE = [
    "No association was found between @GENE$ polymorphisms and @DISEASE$.",
    "@GENE$ genotypes did not differ between patients with @DISEASE$ and healthy controls.",
    "The @GENE$ variant was not associated with @DISEASE$ (P = {p}).",
    "We found no evidence that @GENE$ contributes to @DISEASE$ susceptibility.",
    "@GENE$ was used as a reference gene, and patients with @DISEASE$ were recruited from two centres.",
    "Serum @GENE$ levels were similar in @DISEASE$ and in controls.",
    "@GENE$ expression was unrelated to @DISEASE$ severity.",
    "Neither @GENE$ nor {G2} variants were linked to @DISEASE$ in this cohort.",
    "Patients with @DISEASE$ were excluded if they had received {C}; @GENE$ was genotyped in all others.",
    "@GENE$ polymorphisms did not influence the risk of @DISEASE$ in {pop}.",
    "There was no significant difference in @GENE$ allele frequencies between {pop} with and without @DISEASE$.",
    "The association between @GENE$ and @DISEASE$ was not replicated in an independent sample.",
    "{C} was given to all {pop} with @DISEASE$, and @GENE$ was measured at baseline.",
    "@GENE$ status did not predict the course of @DISEASE$.",
]


def cap(s):
    return s[0].upper() + s[1:]


class Gen:
    """Random choices from a string seed, so that each split is reproducible on its own."""

    def __init__(self, seed, unseen=False):
        self.r = random.Random(seed)
        self.unseen = unseen

    def name(self, typ, avoid):
        sample, extra = NAMES[typ]
        if self.unseen and self.r.random() < 0.7:
            pool = UNSEEN[typ]
        elif self.r.random() < 0.5:
            pool = sample
        else:
            pool = extra
        for _ in range(20):
            n = self.r.choice(pool)
            if n not in avoid:
                return n
        return n

    def filler(self, key):
        r = self.r
        if key == "pop":
            return r.choice(POPS)
        if key == "n":
            return str(r.randrange(12, 2400))
        if key == "weeks":
            return str(r.choice([4, 8, 12, 24, 26, 52]))
        if key == "p":
            return r.choice(["0.001", "0.003", "0.02", "0.04", "0.31", "0.62"])
        if key == "hr":
            return "{:.2f}".format(r.uniform(0.4, 2.5))
        if key == "pct":
            return str(r.randrange(2, 95))
        raise KeyError(key)

    def fill(self, template):
        """Text and entity spans [(start, end, type)] (code-point offsets) of one template."""
        text, spans, chosen = "", [], {}
        for part in re.split(r"(\{\w+\})", template):
            m = re.fullmatch(r"\{(\w+)\}", part)
            if not m:
                text += part
                continue
            key = m.group(1)
            if key[0] in "DCG":
                base = key[:-1] if key.endswith("c") else key
                typ = {"D": "Disease", "C": "Chemical", "G": "Gene"}[base[0]]
                if base not in chosen:
                    chosen[base] = self.name(typ, set(chosen.values()))
                name = chosen[base]
                if key.endswith("c") and key != base:
                    name = cap(name)
                spans.append((len(text), len(text) + len(name), typ))
                text += name
            else:
                text += self.filler(key)
        return text, spans

    def passage(self, n_sentences):
        """Several sentences joined by spaces, as in an abstract."""
        text, spans = "", []
        for i in range(n_sentences):
            t, s = self.fill(self.r.choice(NER_TEMPLATES))
            if i:
                text += " "
            spans += [(a + len(text), b + len(text), typ) for a, b, typ in s]
            text += t
        return text, spans

    def re_example(self):
        label = 1 if self.r.random() < 0.5 else 0
        template = self.r.choice(RE_POSITIVE if label else RE_NEGATIVE)
        text, _ = self.fill(template)
        return text, label

    def re_untagged(self):
        """An RE sentence with real names instead of the tags (for the vocabulary corpus)."""
        text, label = self.re_example()
        text = text.replace("@GENE$", self.name("Gene", set())).replace("@DISEASE$", self.name("Disease", set()))
        return text


def ner_dataset(seed, count, unseen=False):
    g = Gen(seed, unseen)
    out = []
    for i in range(count):
        # mostly short passages, some long ones so that every position up to 512 is trained
        k = g.r.choice([1, 1, 1, 2, 3, 4, 6, 10, 16, 24]) if not unseen else g.r.choice([1, 1, 2, 3])
        out.append(g.passage(k))
    return out


def re_dataset(seed, count):
    g = Gen(seed)
    return [g.re_example() for _ in range(count)]


# ---------------------------------------------------------------- sample abstracts


def sample_texts():
    """Title and abstract of each record of samples/pubmed/demo_baseline.xml.gz."""
    path = os.path.join(ROOT, "samples", "pubmed", "demo_baseline.xml.gz")
    root = ET.fromstring(gzip.open(path).read())
    out = []
    for art in root.iter("PubmedArticle"):
        title = "".join(art.find(".//ArticleTitle").itertext())
        abstract = " ".join("".join(t.itertext()) for t in art.iter("AbstractText"))
        out.append((title, abstract))
    return out


def silver_spans(text):
    """The sample vocabulary found in a sample text (longest match, whole words)."""
    names = [(n, "Disease") for n in SAMPLE_DISEASES] + [(n, "Chemical") for n in SAMPLE_CHEMICALS] + \
            [(n, "Gene") for n in SAMPLE_GENES]
    names += [(cap(n), t) for n, t in names if cap(n) != n]
    names.sort(key=lambda x: -len(x[0]))
    taken = [False] * len(text)
    spans = []
    for n, t in names:
        for m in re.finditer(r"(?<![\w-])" + re.escape(n) + r"(?![\w-])", text):
            if not any(taken[m.start():m.end()]):
                spans.append((m.start(), m.end(), t))
                for i in range(m.start(), m.end()):
                    taken[i] = True
    return sorted(spans)


# ---------------------------------------------------------------- fixture texts

NER_FIXTURES = [
    "Metformin reduced the expression of IL-6 in patients with type 2 diabetes.",
    "Mutations in BRCA1, TP53 and HER2 increase the risk of breast cancer and colorectal cancer.",
    "β-catenin signalling is altered in Sjögren's syndrome, and cisplatin restores it.",
    "Patients with Alzheimer's disease received donepezil (10 mg) or placebo.",
    "Insulin glargine and atorvastatin in non-small cell lung cancer: effects on EGFR/KRAS",
    "Serum TNF-alpha, IL-6 and VEGF-A (pg/ml) were elevated; P < 0.05.",
    "The study was approved by the ethics committee.",
    "Gefitinib 治疗 EGFR mutant lung cancer ✓ (IL-1β).",
    "Aspirin\tand  atorvastatin\nin type 2 diabetes.",
    "🧬 KRAS mutations drive colorectal cancer; 𝛼-synuclein (SNCA) aggregates in Parkinson's disease.",
    "Ménière's disease and Behçet's disease were treated with dexamethasone.",
]

RE_FIXTURES = [
    "@GENE$ polymorphisms were associated with an increased risk of @DISEASE$.",
    "No association was found between @GENE$ polymorphisms and @DISEASE$.",
    "Mutations in @GENE$ increase the risk of @DISEASE$.",
    "The @GENE$ variant was not associated with @DISEASE$ (P = 0.31).",
    "@GENE$ is a susceptibility gene for @DISEASE$ in women.",
    "Serum @GENE$ levels were similar in @DISEASE$ and in controls.",
    "These findings suggest that @GENE$ is a therapeutic target in @DISEASE$.",
    "@GENE$ genotypes did not differ between patients with @DISEASE$ and healthy controls.",
    "Carriers of the @GENE$ risk allele treated with metformin had a higher incidence of @DISEASE$.",
    "@GENE$ and @DISEASE$.",
]
