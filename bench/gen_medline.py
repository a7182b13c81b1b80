#!/usr/bin/env python3
"""Generate a large, synthetic PubMed MEDLINE XML file for parse-throughput benchmarks.

Standard library only and deterministic: the same --articles and --seed always give the same
bytes (with --gzip too: the gzip header's mtime is fixed at 0).

The file is shaped like a 2025 baseline/update file (DTD pubmed_250101): a PubmedArticleSet of
PubmedArticle records with the elements, attribute spellings, element order and two-space
indentation of the real files, and, as update files do, one DeleteCitation at the end holding
one PMID per ~500 articles. The content is made up (random words from a biomedical vocabulary)
but its size and shape follow real records: abstracts average ~1,200 characters, 1-12 authors
with affiliations and sometimes an ORCID, 5-15 MeSH headings with qualifiers, 0-30 references,
occasional <i>/<sup>/<sub> inline markup, escaped '&' and '<', and non-ASCII text (Greek
letters, accented names) so that UTF-8 decoding is exercised. The average article comes out at
~6.5 KB of uncompressed XML (~200 MB per 30,000 articles), in the range of real
baseline files; --modern-fraction moves it (0.25 gives ~5.9 KB, 0.4 the default).

    python3 bench/gen_medline.py --articles 30000 /tmp/bench.xml
    python3 bench/gen_medline.py --articles 30000 --gzip /tmp/bench.xml.gz
"""

import argparse
import gzip
import os
import random
import sys

HEADER = (
    '<?xml version="1.0" ?>\n'
    '<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
    "<PubmedArticleSet>\n"
)
FOOTER = "</PubmedArticleSet>\n"

# --- vocabularies ------------------------------------------------------------------------------

WORDS = """
patients cells expression protein gene tumor cancer treatment clinical study analysis results
associated increased decreased significantly compared control group risk factors levels model
mice receptor signaling pathway response therapy disease outcomes cohort randomized trial dose
inflammation activity function mechanism role effect effects data observed identified revealed
demonstrated suggest findings population incidence mortality survival prognosis diagnosis
infection immune antibody viral bacterial resistance mutation variants genome sequencing
transcription regulation apoptosis proliferation migration invasion metastasis tissue samples
serum plasma blood concentration cardiovascular hypertension diabetes obesity insulin glucose
metabolic lipid cholesterol kidney liver lung brain neuronal cognitive behavioral children adults
women men age years months follow-up baseline intervention placebo efficacy safety adverse events
hospital emergency surgery surgical postoperative complications imaging magnetic resonance
tomography ultrasound biomarker biomarkers sensitivity specificity accuracy predictive regression
multivariate univariate logistic hazard ratio odds confidence interval median mean standard
deviation quality health care system public policy prevalence screening vaccination vaccine
pandemic respiratory syndrome acute chronic severe mild moderate primary secondary novel potential
underlying molecular cellular structural functional dynamic stable membrane mitochondrial oxidative
stress damage repair DNA RNA microRNA transcriptome proteomic metabolomic single-cell network
interaction binding affinity inhibitor inhibition activation kinase phosphorylation ligand agonist
antagonist pharmacokinetics administration oral intravenous weeks daily regimen adherence
""".split()

GENES = ["TERT", "TP53", "BRCA1", "BRCA2", "EGFR", "KRAS", "MYC", "PTEN", "IL-6", "TNF",
         "STAT3", "NF-kB", "VEGFA", "APOE", "CFTR", "HER2", "PD-L1", "ACE2", "mTOR", "SOX2"]
SPECIES = ["Escherichia coli", "Staphylococcus aureus", "Mus musculus", "Homo sapiens",
           "Plasmodium falciparum", "Mycobacterium tuberculosis", "Drosophila melanogaster",
           "Saccharomyces cerevisiae", "Caenorhabditis elegans", "Pseudomonas aeruginosa"]

LABELS = [  # (Label, NlmCategory)
    ("BACKGROUND", "BACKGROUND"), ("OBJECTIVE", "OBJECTIVE"), ("AIMS", "OBJECTIVE"),
    ("METHODS", "METHODS"), ("DESIGN", "METHODS"), ("RESULTS", "RESULTS"),
    ("FINDINGS", "RESULTS"), ("CONCLUSIONS", "CONCLUSIONS"), ("CONCLUSION", "CONCLUSIONS"),
    ("INTRODUCTION", "BACKGROUND"), ("TRIAL REGISTRATION", "BACKGROUND"),
]
STRUCTURE = {
    2: [["BACKGROUND", "CONCLUSIONS"], ["OBJECTIVE", "RESULTS"]],
    3: [["BACKGROUND", "METHODS", "RESULTS"], ["OBJECTIVE", "METHODS", "CONCLUSIONS"]],
    4: [["BACKGROUND", "METHODS", "RESULTS", "CONCLUSIONS"],
        ["OBJECTIVE", "DESIGN", "RESULTS", "CONCLUSIONS"],
        ["INTRODUCTION", "METHODS", "FINDINGS", "CONCLUSION"],
        ["AIMS", "METHODS", "RESULTS", "CONCLUSIONS"]],
    5: [["BACKGROUND", "OBJECTIVE", "METHODS", "RESULTS", "CONCLUSIONS"],
        ["BACKGROUND", "METHODS", "RESULTS", "CONCLUSIONS", "TRIAL REGISTRATION"]],
}
CATEGORY = dict(LABELS)

LAST_NAMES = """Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez
Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris
Clark Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams
Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Gao Luo Kim Park Choi
Tanaka Suzuki Sato Takahashi Watanabe Ito Yamamoto Nakamura Kobayashi Kato Müller Schmidt
Schneider Fischer Weber Meyer Wagner Becker Schäfer Koch Rossi Russo Ferrari Esposito Bianchi
Romano Colombo Dubois Lefèvre Moreau Laurent Girard Jensen Nielsen Hansen Pedersen Søndergaard
Andersson Johansson Karlsson Nilsson Kowalski Nowak Wiśniewski Novák Dvořák Silva Santos Oliveira
Souza Pereira Costa Rodrigues Almeida Kumar Singh Sharma Patel Gupta Reddy Das Iyer O'Brien
O'Connor MacDonald Jansen Bakker Öztürk Yılmaz Kaya Demir Ivanov Petrov
Smirnov Cohen Levi Mizrahi Friedman Ahmed Hassan Ali Mohamed Ibrahim""".split() + [
    "van der Berg", "de Vries", "Da Silva", "Le Roux"]
FORE_NAMES = """James Mary John Patricia Robert Jennifer Michael Linda David Elizabeth William
Barbara Richard Susan Joseph Jessica Thomas Sarah Wei Fang Jing Lei Yan Hui Xin Ming Hiroshi
Yuki Kenji Akiko Hans Anna Klaus Petra Jürgen Sabine Giulia Marco Francesca Luca Élodie François
Camille Lars Ingrid Søren Astrid José María João Ana Priya Rahul Anil Sunita Olga Dmitri Fatima
Omar Yasmin Tomasz Agnieszka Jiří Eva Mehmet Ayşe Paul M|Helen K|Peter J|Eric D|J Mark|Ana L
Carlos A|Maria J|Li-Wei|Jean-Pierre|Hae-Won""".split()
FORE_NAMES = [f.replace("|", " ") if "|" in f else f for f in FORE_NAMES]

DEPTS = ["Department of Medicine", "Department of Epidemiology", "Department of Surgery",
         "Department of Pediatrics", "Department of Pathology", "Department of Biochemistry",
         "Division of Cardiology", "Department of Oncology", "Institute of Pharmacology",
         "Department of Psychiatry", "School of Public Health", "Department of Microbiology",
         "Department of Radiology", "Center for Genomic Medicine", "Department of Neurology"]
INSTS = ["Harvard Medical School", "University of Oxford", "Karolinska Institutet",
         "Peking University", "The University of Tokyo", "McMaster University",
         "Charité - Universitätsmedizin Berlin", "University of Cape Town",
         "Sun Yat-sen University", "Johns Hopkins University", "Sorbonne Université",
         "University of São Paulo", "All India Institute of Medical Sciences",
         "Seoul National University", "University of Copenhagen", "Mayo Clinic",
         "Imperial College London", "University of Toronto", "Fudan University",
         "Universidad de Barcelona", "Università di Milano", "Monash University"]
PLACES = ["Boston, MA, USA", "Oxford, UK", "Stockholm, Sweden", "Beijing, China",
          "Tokyo, Japan", "Hamilton, ON, Canada", "Berlin, Germany", "Cape Town, South Africa",
          "Guangzhou, China", "Baltimore, MD, USA", "Paris, France", "São Paulo, Brazil",
          "New Delhi, India", "Seoul, Republic of Korea", "Copenhagen, Denmark",
          "Rochester, MN, USA", "London, UK", "Toronto, ON, Canada", "Shanghai, China",
          "Barcelona, Spain", "Milan, Italy", "Melbourne, VIC, Australia"]

JOURNALS = [  # (Title, ISOAbbreviation, ISSN, Country, NlmUniqueID)
    ("The New England journal of medicine", "N Engl J Med", "1533-4406", "United States", "0255562"),
    ("Gut", "Gut", "1468-3288", "England", "2985108R"),
    ("PloS one", "PLoS One", "1932-6203", "United States", "101285081"),
    ("Scientific reports", "Sci Rep", "2045-2322", "England", "101563288"),
    ("Nature communications", "Nat Commun", "2041-1723", "England", "101528555"),
    ("BMJ open", "BMJ Open", "2044-6055", "England", "101552874"),
    ("Frontiers in immunology", "Front Immunol", "1664-3224", "Switzerland", "101560960"),
    ("International journal of molecular sciences", "Int J Mol Sci", "1422-0067", "Switzerland", "101092791"),
    ("Journal of clinical oncology : official journal of the American Society of Clinical Oncology",
     "J Clin Oncol", "1527-7755", "United States", "8309333"),
    ("Cell reports", "Cell Rep", "2211-1247", "United States", "101573691"),
    ("The Lancet. Infectious diseases", "Lancet Infect Dis", "1474-4457", "United States", "101130150"),
    ("Medicine", "Medicine (Baltimore)", "1536-5964", "United States", "2985248R"),
    ("Cancers", "Cancers (Basel)", "2072-6694", "Switzerland", "101526829"),
    ("Journal of the American Heart Association", "J Am Heart Assoc", "2047-9980", "England", "101580524"),
    ("Nucleic acids research", "Nucleic Acids Res", "1362-4962", "England", "0411011"),
    ("Zhonghua yi xue za zhi", "Zhonghua Yi Xue Za Zhi", "0376-2491", "China", "7511141"),
]
LANGS = ["eng"] * 40 + ["chi", "ger", "fre", "spa", "jpn", "rus", "por"]
PUB_TYPES = [("D016428", "Journal Article"), ("D013485", "Research Support, Non-U.S. Gov't"),
             ("D052061", "Research Support, N.I.H., Extramural"), ("D016454", "Review"),
             ("D016449", "Randomized Controlled Trial"), ("D016448", "Multicenter Study"),
             ("D003160", "Comparative Study"), ("D017065", "Practice Guideline"),
             ("D017418", "Meta-Analysis"), ("D000078182", "Systematic Review"),
             ("D002363", "Case Reports"), ("D016441", "Retracted Publication")]
AGENCIES = [("CA", "NCI NIH HHS", "United States"), ("HL", "NHLBI NIH HHS", "United States"),
            ("AI", "NIAID NIH HHS", "United States"), ("", "Wellcome Trust", "United Kingdom"),
            ("MR", "Medical Research Council", "United Kingdom"),
            ("", "National Natural Science Foundation of China", "China"),
            ("", "Deutsche Forschungsgemeinschaft", "Germany"),
            ("", "European Research Council", "International")]
MESH = [m.strip() for m in """
Humans|Female|Male|Adult|Middle Aged|Aged|Adolescent|Child|Young Adult|Animals|Mice|Rats
Cohort Studies|Retrospective Studies|Prospective Studies|Risk Factors|Treatment Outcome
Neoplasms|Breast Neoplasms|Lung Neoplasms|Pancreatic Neoplasms|Diabetes Mellitus, Type 2
Hypertension|Obesity|COVID-19|SARS-CoV-2|Asthma|Alzheimer Disease|Parkinson Disease
Depression|Myocardial Infarction|Stroke|HIV Infections|Tuberculosis|Malaria|Inflammation
Apoptosis|Cell Proliferation|Signal Transduction|Gene Expression Regulation, Neoplastic
Mutation|Polymorphism, Single Nucleotide|Biomarkers, Tumor|Prognosis|Survival Analysis
Disease Models, Animal|Cell Line, Tumor|Brain|Liver|Kidney|Lung|Telomere|Immunotherapy
Antineoplastic Agents|Anti-Bacterial Agents|Glucocorticoids|Quality of Life|Surveys and Questionnaires
Incidence|Prevalence|Odds Ratio|Logistic Models|Cross-Sectional Studies|Follow-Up Studies
Time Factors|Age Factors|Sex Factors|Body Mass Index|Blood Glucose|Insulin|Oxidative Stress
Reactive Oxygen Species|Mitochondria|MicroRNAs|RNA, Long Noncoding|Tumor Suppressor Protein p53
Receptors, Estrogen|Protein Kinases|Phosphorylation|Mice, Inbred C57BL|Mice, Knockout
Magnetic Resonance Imaging|Tomography, X-Ray Computed|Postoperative Complications
Double-Blind Method|Drug Administration Schedule|Medication Adherence|Pregnancy|Infant, Newborn
Vaccination|Drug Resistance, Bacterial|Microbial Sensitivity Tests|Gastrointestinal Microbiome
Sequence Analysis, DNA|Genome-Wide Association Study|Exercise|Diet|Smoking|Alcohol Drinking
Socioeconomic Factors|Health Services Accessibility""".replace("\n", "|").split("|") if m.strip()]
QUALIFIERS = [("Q000008", "administration &amp; dosage"), ("Q000009", "adverse effects"),
              ("Q000188", "drug therapy"), ("Q000175", "diagnosis"), ("Q000453", "epidemiology"),
              ("Q000235", "genetics"), ("Q000378", "metabolism"), ("Q000473", "pathology"),
              ("Q000503", "physiopathology"), ("Q000401", "mortality"), ("Q000601", "surgery"),
              ("Q000502", "physiology"), ("Q000276", "immunology"), ("Q000097", "blood"),
              ("Q000627", "therapeutic use"), ("Q000379", "methods")]
CHEMICALS = [("0", "Biomarkers, Tumor"), ("0", "Glucocorticoids"), ("51333-22-3", "Budesonide"),
             ("N8ONU3L3PG", "Terbutaline"), ("EC 2.7.7.49", "Telomerase"),
             ("EC 2.7.10.1", "ErbB Receptors"), ("0", "Tumor Suppressor Protein p53"),
             ("IY9XDZ35W2", "Glucose"), ("0", "Insulin"), ("0", "MicroRNAs"),
             ("9007-49-2", "DNA"), ("63231-63-0", "RNA"), ("0", "Antineoplastic Agents"),
             ("Q20Q21Q62J", "Cisplatin"), ("0", "Cytokines"), ("0", "Interleukin-6"),
             ("R16CO5Y76E", "Aspirin"), ("9100L32L2N", "Metformin"),
             ("0", "Reactive Oxygen Species"), ("0", "Anti-Bacterial Agents")]
KEYWORDS = ["telomere", "pancreatic cancer", "cohort", "machine learning", "deep learning",
            "COVID-19", "SARS-CoV-2", "biomarker", "inflammation", "gut microbiota", "obesity",
            "oxidative stress", "apoptosis", "immunotherapy", "prognosis", "meta-analysis",
            "single-cell RNA sequencing", "ferroptosis", "autophagy", "CRISPR/Cas9",
            "β-cell", "Mendelian randomization", "public health", "quality of life"]


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Gen:
    def __init__(self, seed, modern_fraction=0.4):
        self.r = random.Random(seed)
        self.modern_fraction = modern_fraction
        # UI numbers for MeSH descriptors, fixed per name
        self.mesh_ui = {m: "D%06d" % (1000 + i * 37) for i, m in enumerate(MESH)}

    # -- text ----------------------------------------------------------------------------------

    def phrase(self):
        r = self.r
        k = r.random()
        if k < 0.25:
            return "(n = %d)" % r.randint(12, 25000)
        if k < 0.45:
            a = r.uniform(0.2, 3.0)
            return "(OR %.2f; 95%% CI %.2f to %.2f; P = 0.%03d)" % (a, a * 0.7, a * 1.4, r.randint(1, 49))
        if k < 0.55:
            return "(p &lt; 0.%s1)" % ("0" * r.randint(1, 3))
        if k < 0.65:
            return "at the <i>%s</i> locus" % r.choice(GENES)
        if k < 0.72:
            return "r<sup>2</sup> = 0.%02d" % r.randint(1, 99)
        if k < 0.79:
            return "IC<sub>50</sub> of %.1f μM" % r.uniform(0.1, 90)
        if k < 0.86:
            return "in <i>%s</i>" % r.choice(SPECIES)
        if k < 0.93:
            return "%d ± %d mg/dL" % (r.randint(60, 300), r.randint(2, 40))
        return "TGF-β &amp; IFN-γ"

    def sentence(self):
        r = self.r
        n = r.randint(9, 28)
        words = [r.choice(WORDS) for _ in range(n)]
        if r.random() < 0.45:
            words.insert(r.randint(1, n), self.phrase())
        s = " ".join(words)
        return s[0].upper() + s[1:] + "."

    def text(self, nchars):
        out, size = [], 0
        while size < nchars:
            s = self.sentence()
            out.append(s)
            size += len(s) + 1
        return " ".join(out)

    def title(self):
        r = self.r
        s = " ".join(r.choice(WORDS) for _ in range(r.randint(6, 18)))
        if r.random() < 0.15:
            s += " " + self.phrase()
        if r.random() < 0.1:
            s = "[" + s + "]"  # translated titles are bracketed
            return s[0] + s[1].upper() + s[2:-1] + ".]"
        return s[0].upper() + s[1:] + "."

    def plain_title(self):
        r = self.r
        s = " ".join(r.choice(WORDS) for _ in range(r.randint(4, 12)))
        return s[0].upper() + s[1:] + "."

    # -- pieces --------------------------------------------------------------------------------

    def date(self, lo=1995, hi=2024):
        r = self.r
        return r.randint(lo, hi), r.randint(1, 12), r.randint(1, 28)

    def author(self, o, ind, modern, first):
        r = self.r
        if r.random() < 0.01:
            o.append('%s<Author ValidYN="Y">\n%s  <CollectiveName>%s Study Group</CollectiveName>\n%s</Author>\n'
                     % (ind, ind, esc(r.choice(KEYWORDS)).upper(), ind))
            return
        last = r.choice(LAST_NAMES)
        fore = r.choice(FORE_NAMES)
        inits = "".join(p[0] for p in fore.replace("-", " ").split())
        attrs = ' ValidYN="Y"' + (' EqualContrib="Y"' if r.random() < 0.05 else "")
        o.append('%s<Author%s>\n%s  <LastName>%s</LastName>\n%s  <ForeName>%s</ForeName>\n'
                 '%s  <Initials>%s</Initials>\n' % (ind, attrs, ind, last, ind, fore, ind, inits))
        if modern and r.random() < 0.25:
            o.append('%s  <Identifier Source="ORCID">0000-000%d-%04d-%03d%s</Identifier>\n'
                     % (ind, r.randint(1, 3), r.randint(0, 9999), r.randint(0, 999),
                        r.choice("0123456789X")))
        # before 2014 MEDLINE gave the first author's affiliation only
        k = r.random()
        if modern:
            naff = 0 if k < 0.12 else (1 if k < 0.9 else 2)
        else:
            naff = 1 if first and k < 0.4 else 0
        for _ in range(naff):
            i = r.randrange(len(INSTS))
            aff = "%s, %s, %s." % (r.choice(DEPTS), INSTS[i], PLACES[i])
            if r.random() < 0.08:
                aff = aff[:-1] + ". Electronic address: %s.%s@example.org." % (
                    fore.split()[0].lower(), last.lower().replace(" ", "").replace("'", ""))
            o.append('%s  <AffiliationInfo>\n%s    <Affiliation>%s</Affiliation>\n%s  </AffiliationInfo>\n'
                     % (ind, ind, esc(aff), ind))
        o.append("%s</Author>\n" % ind)

    def ymd(self, o, ind, tag, y, m, d, attrs="", hm=False, mon_fmt="%02d"):
        o.append("%s<%s%s>\n%s  <Year>%d</Year>\n%s  <Month>%s</Month>\n%s  <Day>%s</Day>\n"
                 % (ind, tag, attrs, ind, y, ind, mon_fmt % m, ind, mon_fmt % d))
        if hm:
            o.append("%s  <Hour>%d</Hour>\n%s  <Minute>%d</Minute>\n" % (ind, self.r.choice((0, 6, 10)), ind, 0))
        o.append("%s</%s>\n" % (ind, tag))

    def reference(self, o):
        r = self.r
        nau = r.randint(1, 4)
        names = ", ".join("%s %s" % (r.choice(LAST_NAMES), "".join(r.choice("ABCDEFGHJKLMPRSTW") for _ in range(r.randint(1, 2))))
                          for _ in range(nau))
        if nau == 4:
            names += ", et al"
        j = r.choice(JOURNALS)
        y = r.randint(1980, 2024)
        cit = "%s. %s %s. %d;%d(%d):%d-%d." % (
            names, self.plain_title(), j[1], y, r.randint(1, 400), r.randint(1, 24),
            r.randint(1, 900), r.randint(901, 999))
        doi = None
        if r.random() < 0.6:
            doi = "10.%d/%s.%d.%d" % (r.randint(1000, 9999), j[1].split()[0].lower().strip("()"), y, r.randint(100, 99999))
            cit += " doi: %s." % doi
        o.append("        <Reference>\n          <Citation>%s</Citation>\n" % esc(cit))
        if r.random() < 0.8:
            o.append("          <ArticleIdList>\n")
            if doi:
                o.append('            <ArticleId IdType="doi">%s</ArticleId>\n' % doi)
            o.append('            <ArticleId IdType="pubmed">%d</ArticleId>\n' % r.randint(1000000, 39000000))
            if r.random() < 0.25:
                o.append('            <ArticleId IdType="pmc">PMC%d</ArticleId>\n' % r.randint(1000000, 11000000))
            o.append("          </ArticleIdList>\n")
        o.append("        </Reference>\n")

    # -- article -------------------------------------------------------------------------------

    def article(self, pmid):
        r = self.r
        o = []
        a = o.append
        # a baseline file mixes eras: older records are small (no references, often no
        # abstract, few authors, one affiliation), recent ones large
        modern = r.random() < self.modern_fraction
        year = r.randint(2008, 2024) if modern else r.randint(1966, 2007)
        jt, iso, issn, country, nlmid = r.choice(JOURNALS)
        status = "MEDLINE" if r.random() < (0.6 if modern else 0.85) else "PubMed-not-MEDLINE"
        method = ' IndexingMethod="Automated"' if r.random() < 0.3 else ""
        a('  <PubmedArticle>\n    <MedlineCitation Status="%s" Owner="NLM"%s>\n'
          '      <PMID Version="1">%d</PMID>\n' % (status, method, pmid))
        if status == "MEDLINE":
            self.ymd(o, "      ", "DateCompleted", min(year + 1, 2025), r.randint(1, 12), r.randint(1, 28))
        self.ymd(o, "      ", "DateRevised", 2025, 1, r.randint(1, 28))
        pubmodel = r.choice(("Print-Electronic", "Print", "Electronic", "Electronic-eCollection")) if modern else "Print"
        a('      <Article PubModel="%s">\n        <Journal>\n'
          '          <ISSN IssnType="%s">%s</ISSN>\n'
          '          <JournalIssue CitedMedium="%s">\n'
          '            <Volume>%d</Volume>\n' % (
              pubmodel, r.choice(("Print", "Electronic")), issn,
              r.choice(("Internet", "Print")), r.randint(1, 400)))
        if r.random() < 0.85:
            a("            <Issue>%d</Issue>\n" % r.randint(1, 24))
        a("            <PubDate>\n")
        k = r.random()
        if k < 0.04:
            m = r.randint(0, 10)
            a("              <MedlineDate>%d %s-%s</MedlineDate>\n" % (year, MONTHS[m], MONTHS[m + 1]))
        else:
            a("              <Year>%d</Year>\n" % year)
            if k < 0.9:
                a("              <Month>%s</Month>\n" % MONTHS[r.randint(0, 11)])
            if k < 0.5:
                a("              <Day>%02d</Day>\n" % r.randint(1, 28))
        a("            </PubDate>\n          </JournalIssue>\n"
          "          <Title>%s</Title>\n          <ISOAbbreviation>%s</ISOAbbreviation>\n"
          "        </Journal>\n        <ArticleTitle>%s</ArticleTitle>\n" % (esc(jt), esc(iso), self.title()))
        if r.random() < 0.9:
            p1 = r.randint(1, 3000)
            p2 = p1 + r.randint(0, 14)
            if modern:
                a("        <Pagination>\n          <StartPage>%d</StartPage>\n          <EndPage>%d</EndPage>\n"
                  "          <MedlinePgn>%d-%d</MedlinePgn>\n        </Pagination>\n" % (p1, p2, p1, p2))
            else:
                a("        <Pagination>\n          <MedlinePgn>%d-%d</MedlinePgn>\n        </Pagination>\n" % (p1, p2 % 100))
        doi = "10.%d/%s.%d.%06d" % (r.randint(1000, 9999), iso.split()[0].lower().strip("()"), year, pmid % 1000000)
        if modern and r.random() < 0.95:
            a('        <ELocationID EIdType="doi" ValidYN="Y">%s</ELocationID>\n' % doi)
        else:
            doi = None
        if modern and r.random() < 0.2:
            a('        <ELocationID EIdType="pii" ValidYN="Y">S%04d-%04d(%d)%05d-%d</ELocationID>\n'
              % (r.randint(0, 9999), r.randint(0, 9999), year % 100, r.randint(0, 99999), r.randint(0, 9)))

        # abstract: most recent records have one, older ones often not; ~1,200 characters
        if r.random() < (0.95 if modern else 0.35):
            total = max(200, min(4000, int(r.gauss(1000, 400))))
            nsec = r.choice((1, 1, 1, 1, 2, 3, 4, 4, 4, 5)) if modern else r.choice((1, 1, 1, 1, 4))
            a("        <Abstract>\n")
            if nsec == 1:
                a("          <AbstractText>%s</AbstractText>\n" % self.text(total))
            else:
                labels = r.choice(STRUCTURE[nsec])
                for lab in labels:
                    a('          <AbstractText Label="%s" NlmCategory="%s">%s</AbstractText>\n'
                      % (lab, CATEGORY[lab], self.text(total // nsec)))
            if modern and r.random() < 0.3:
                a("          <CopyrightInformation>© %d The Author(s). Published by Example Press.</CopyrightInformation>\n" % year)
            a("        </Abstract>\n")

        # authors: 1-12, most papers 3-8
        nau = min(12, max(1, int(r.triangular(1, 13, 3) if modern else r.triangular(1, 5, 1))))
        a('        <AuthorList CompleteYN="Y">\n')
        for i in range(nau):
            self.author(o, "          ", modern, i == 0)
        a("        </AuthorList>\n        <Language>%s</Language>\n" % r.choice(LANGS))
        if r.random() < (0.3 if modern else 0.1):
            a('        <GrantList CompleteYN="Y">\n')
            for _ in range(r.randint(1, 4)):
                acr, agency, gc = r.choice(AGENCIES)
                gid = ("R01 %s%06d" % (acr, r.randint(0, 999999))) if acr else "%d" % r.randint(10000000, 99999999)
                a("          <Grant>\n            <GrantID>%s</GrantID>\n" % gid)
                if acr:
                    a("            <Acronym>%s</Acronym>\n" % acr)
                a("            <Agency>%s</Agency>\n            <Country>%s</Country>\n          </Grant>\n" % (agency, gc))
            a("        </GrantList>\n")
        a("        <PublicationTypeList>\n")
        pts = [PUB_TYPES[0]] + r.sample(PUB_TYPES[1:11], r.choice((0, 0, 1, 1, 2, 3)))
        if r.random() < 0.002:
            pts.append(PUB_TYPES[11])
        for ui, name in pts:
            a('          <PublicationType UI="%s">%s</PublicationType>\n' % (ui, esc(name)))
        a("        </PublicationTypeList>\n")
        if pubmodel != "Print":
            ay, am, ad = min(year, 2024), r.randint(1, 12), r.randint(1, 28)
            self.ymd(o, "        ", "ArticleDate", ay, am, ad, attrs=' DateType="Electronic"')
        a("      </Article>\n      <MedlineJournalInfo>\n        <Country>%s</Country>\n"
          "        <MedlineTA>%s</MedlineTA>\n        <NlmUniqueID>%s</NlmUniqueID>\n"
          "        <ISSNLinking>%s</ISSNLinking>\n      </MedlineJournalInfo>\n"
          % (country, esc(iso), nlmid, issn))
        if status == "MEDLINE" and r.random() < (0.45 if modern else 0.3):
            a("      <ChemicalList>\n")
            for reg, name in r.sample(CHEMICALS, r.randint(1, 6)):
                a("        <Chemical>\n          <RegistryNumber>%s</RegistryNumber>\n"
                  '          <NameOfSubstance UI="D%06d">%s</NameOfSubstance>\n        </Chemical>\n'
                  % (reg, 2000 + (hash_name(name) % 90000), esc(name)))
            a("      </ChemicalList>\n")
        a("      <CitationSubset>IM</CitationSubset>\n")
        if status == "MEDLINE":
            a("      <MeshHeadingList>\n")
            for name in sorted(r.sample(MESH, int(r.triangular(5, 16, 5)))):
                major = "Y" if r.random() < 0.15 else "N"
                a("        <MeshHeading>\n"
                  '          <DescriptorName UI="%s" MajorTopicYN="%s">%s</DescriptorName>\n'
                  % (self.mesh_ui[name], major, esc(name)))
                if r.random() < 0.3:
                    for qui, qname in r.sample(QUALIFIERS, r.choice((1, 1, 1, 2, 3))):
                        a('          <QualifierName UI="%s" MajorTopicYN="%s">%s</QualifierName>\n'
                          % (qui, "Y" if r.random() < 0.3 else "N", qname))
                a("        </MeshHeading>\n")
            a("      </MeshHeadingList>\n")
        if modern and r.random() < 0.55:
            a('      <KeywordList Owner="NOTNLM">\n')
            for kw in r.sample(KEYWORDS, r.randint(3, 7)):
                a('        <Keyword MajorTopicYN="N">%s</Keyword>\n' % esc(kw))
            a("      </KeywordList>\n")
        if modern and r.random() < 0.25:
            a("      <CoiStatement>The authors declare no competing interests.</CoiStatement>\n")
        a("    </MedlineCitation>\n    <PubmedData>\n      <History>\n")
        ry = min(year, 2024)
        for st in ("received", "revised", "accepted"):
            if modern and r.random() < 0.6:
                self.ymd(o, "        ", "PubMedPubDate", ry, r.randint(1, 12), r.randint(1, 28),
                         attrs=' PubStatus="%s"' % st, mon_fmt="%d")
        for st in ("pubmed", "medline", "entrez"):
            self.ymd(o, "        ", "PubMedPubDate", ry, r.randint(1, 12), r.randint(1, 28),
                     attrs=' PubStatus="%s"' % st, hm=True, mon_fmt="%d")
        if modern and r.random() < 0.3:
            self.ymd(o, "        ", "PubMedPubDate", ry, r.randint(1, 12), r.randint(1, 28),
                     attrs=' PubStatus="pmc-release"', mon_fmt="%d")
        a("      </History>\n      <PublicationStatus>%s</PublicationStatus>\n      <ArticleIdList>\n"
          '        <ArticleId IdType="pubmed">%d</ArticleId>\n'
          % (r.choice(("ppublish", "ppublish", "epublish", "aheadofprint")), pmid))
        if doi:
            a('        <ArticleId IdType="doi">%s</ArticleId>\n' % doi)
        if modern and r.random() < 0.4:
            a('        <ArticleId IdType="pmc">PMC%d</ArticleId>\n' % r.randint(1000000, 11000000))
        if r.random() < 0.2:
            a('        <ArticleId IdType="pii">%d</ArticleId>\n' % r.randint(100000, 999999))
        a("      </ArticleIdList>\n")
        # references: only recent records carry a ReferenceList (1-30 here)
        if modern and r.random() < 0.25:
            a("      <ReferenceList>\n")
            for _ in range(r.randint(1, 30)):
                self.reference(o)
            a("      </ReferenceList>\n")
        a("    </PubmedData>\n  </PubmedArticle>\n")
        return "".join(o)


MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def hash_name(s):
    h = 0
    for ch in s:
        h = (h * 131 + ord(ch)) & 0xFFFFFFFF
    return h


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("output", help="path of the file to write ('-' for stdout)")
    ap.add_argument("--articles", type=int, default=30000, help="number of PubmedArticle records (default 30000)")
    ap.add_argument("--gzip", action="store_true", help="gzip the output (implied by a .gz path)")
    ap.add_argument("--seed", type=int, default=20250101, help="random seed (default 20250101)")
    ap.add_argument("--first-pmid", type=int, default=38000000,
                    help="PMIDs run from here, about 3 apart (default 38000000); files of distinct "
                         "records need ranges that do not meet: ARTICLES * 3 apart")
    ap.add_argument("--delete-every", type=int, default=500,
                    help="one PMID in the trailing DeleteCitation per this many articles; 0 for none (default 500)")
    ap.add_argument("--modern-fraction", type=float, default=0.4,
                    help="share of large, recent (2008+) records; the rest are leaner older ones. "
                         "The main knob for the average article size (default 0.4: ~6.6 KB/article)")
    args = ap.parse_args()

    use_gz = args.gzip or args.output.endswith(".gz")
    if args.output == "-":
        raw = sys.stdout.buffer
    else:
        raw = open(args.output, "wb")
    out = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) if use_gz else raw

    g = Gen(args.seed, args.modern_fraction)
    size = 0
    buf = [HEADER]
    pmid0 = args.first_pmid
    for i in range(args.articles):
        buf.append(g.article(pmid0 + i * 3 + g.r.randint(0, 2)))
        if len(buf) >= 256:
            data = "".join(buf).encode("utf-8")
            out.write(data)
            size += len(data)
            buf = []
    ndel = 0
    if args.delete_every > 0 and args.articles >= 1:
        ndel = max(1, round(args.articles / args.delete_every))
        buf.append("  <DeleteCitation>\n")
        for _ in range(ndel):
            buf.append('    <PMID Version="1">%d</PMID>\n' % g.r.randint(1000000, 37999999))
        buf.append("  </DeleteCitation>\n")
    buf.append(FOOTER)
    data = "".join(buf).encode("utf-8")
    out.write(data)
    size += len(data)
    if use_gz:
        out.close()
    if raw is not sys.stdout.buffer:
        raw.close()

    disk = os.path.getsize(args.output) if args.output != "-" else size
    info = "%s: %d articles, %d deleted PMIDs, %d bytes uncompressed (%.1f MB, %.0f bytes/article)" % (
        args.output, args.articles, ndel, size, size / 1e6, size / max(1, args.articles))
    if use_gz:
        info += ", %d bytes gzipped (%.1f MB)" % (disk, disk / 1e6)
    print(info, file=sys.stderr if args.output == "-" else sys.stdout)


if __name__ == "__main__":
    main()
