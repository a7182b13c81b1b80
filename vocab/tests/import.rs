//! The importers on small files the project writes in exactly the publishers' formats: NLM's
//! MeSH descriptor and supplementary-record XML, NCBI Gene's gene_info and NCBI Taxonomy's
//! names.dmp, plain and gzipped.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use pubmine_vocab::import::{ImportSpec, import};
use pubmine_vocab::{Kind, Vocabulary};

/// Two descriptors as desc20XX.xml writes them (abridged to the elements the importer reads and
/// a few it must not mistake for names), and one outside trees C and D.
const DESC: &str = r#"<?xml version="1.0"?>
<!DOCTYPE DescriptorRecordSet SYSTEM "https://www.nlm.nih.gov/databases/dtd/nlmdescriptorrecordset_20250101.dtd">
<DescriptorRecordSet LanguageCode = "eng">
<DescriptorRecord DescriptorClass = "1">
  <DescriptorUI>D001241</DescriptorUI>
  <DescriptorName>
   <String>Aspirin</String>
  </DescriptorName>
  <DateCreated><Year>1999</Year><Month>01</Month><Day>01</Day></DateCreated>
  <AllowableQualifiersList>
   <AllowableQualifier>
    <QualifierReferredTo>
     <QualifierUI>Q000008</QualifierUI>
      <QualifierName>
      <String>administration &amp; dosage</String>
      </QualifierName>
    </QualifierReferredTo>
    <Abbreviation>AD</Abbreviation>
   </AllowableQualifier>
  </AllowableQualifiersList>
  <PharmacologicalActionList>
   <PharmacologicalAction>
    <DescriptorReferredTo>
     <DescriptorUI>D000894</DescriptorUI>
      <DescriptorName>
      <String>Anti-Inflammatory Agents, Non-Steroidal</String>
      </DescriptorName>
    </DescriptorReferredTo>
   </PharmacologicalAction>
  </PharmacologicalActionList>
  <TreeNumberList>
   <TreeNumber>D02.455.426.559.389.657.109</TreeNumber>
   <TreeNumber>D02.755.410.109</TreeNumber>
  </TreeNumberList>
  <ConceptList>
   <Concept PreferredConceptYN="Y">
    <ConceptUI>M0001886</ConceptUI>
    <ConceptName>
     <String>Aspirin</String>
    </ConceptName>
    <TermList>
     <Term  ConceptPreferredTermYN="Y"  IsPermutedTermYN="N"  LexicalTag="NON"  RecordPreferredTermYN="Y">
      <TermUI>T003458</TermUI>
      <String>Aspirin</String>
     </Term>
     <Term  ConceptPreferredTermYN="N"  IsPermutedTermYN="N"  LexicalTag="NON"  RecordPreferredTermYN="N">
      <TermUI>T003457</TermUI>
      <String>Acetylsalicylic Acid</String>
     </Term>
     <Term  ConceptPreferredTermYN="N"  IsPermutedTermYN="Y"  LexicalTag="NON"  RecordPreferredTermYN="N">
      <TermUI>T003457</TermUI>
      <String>Acid, Acetylsalicylic</String>
     </Term>
    </TermList>
   </Concept>
  </ConceptList>
</DescriptorRecord>
<DescriptorRecord DescriptorClass = "1">
  <DescriptorUI>D002289</DescriptorUI>
  <DescriptorName>
   <String>Carcinoma, Non-Small-Cell Lung</String>
  </DescriptorName>
  <TreeNumberList>
   <TreeNumber>C04.588.894.797.520.109.220.249</TreeNumber>
   <TreeNumber>C08.381.540.140.500</TreeNumber>
  </TreeNumberList>
  <ConceptList>
   <Concept PreferredConceptYN="Y">
    <ConceptUI>M0003224</ConceptUI>
    <ConceptName><String>Carcinoma, Non-Small-Cell Lung</String></ConceptName>
    <ConceptRelationList>
     <ConceptRelation RelationName="NRW">
      <Concept1UI>M0003224</Concept1UI>
      <Concept2UI>M0030316</Concept2UI>
     </ConceptRelation>
    </ConceptRelationList>
    <TermList>
     <Term ConceptPreferredTermYN="Y" IsPermutedTermYN="N" LexicalTag="NON" RecordPreferredTermYN="Y">
      <TermUI>T006297</TermUI>
      <String>Carcinoma, Non-Small-Cell Lung</String>
     </Term>
     <Term ConceptPreferredTermYN="N" IsPermutedTermYN="N" LexicalTag="ABB" RecordPreferredTermYN="N">
      <TermUI>T006301</TermUI>
      <String>NSCLC</String>
     </Term>
    </TermList>
   </Concept>
  </ConceptList>
</DescriptorRecord>
<DescriptorRecord DescriptorClass = "1">
  <DescriptorUI>D008168</DescriptorUI>
  <DescriptorName><String>Lung</String></DescriptorName>
  <TreeNumberList><TreeNumber>A04.411</TreeNumber></TreeNumberList>
  <ConceptList><Concept PreferredConceptYN="Y"><TermList><Term><String>Lungs</String></Term></TermList></Concept></ConceptList>
</DescriptorRecord>
</DescriptorRecordSet>
"#;

/// Supplementary concept records as supp20XX.xml writes them: a chemical (class 1), a disease
/// (class 3) and an organism (class 4, left out).
const SUPP: &str = r#"<?xml version="1.0"?>
<!DOCTYPE SupplementalRecordSet SYSTEM "https://www.nlm.nih.gov/databases/dtd/nlmsupplementalrecordset_20250101.dtd">
<SupplementalRecordSet LanguageCode = "eng">
<SupplementalRecord SCRClass = "1">
  <SupplementalRecordUI>C000121</SupplementalRecordUI>
  <SupplementalRecordName>
   <String>pirinixic acid</String>
  </SupplementalRecordName>
  <HeadingMappedToList>
   <HeadingMappedTo>
    <DescriptorReferredTo>
     <DescriptorUI>*D011345</DescriptorUI>
     <DescriptorName>
      <String>Fenofibrate</String>
     </DescriptorName>
    </DescriptorReferredTo>
   </HeadingMappedTo>
  </HeadingMappedToList>
  <ConceptList>
   <Concept PreferredConceptYN="Y">
    <TermList>
     <Term ConceptPreferredTermYN="Y" RecordPreferredTermYN="Y"><String>pirinixic acid</String></Term>
     <Term ConceptPreferredTermYN="N" RecordPreferredTermYN="N"><String>WY-14643</String></Term>
    </TermList>
   </Concept>
  </ConceptList>
</SupplementalRecord>
<SupplementalRecord SCRClass = "3">
  <SupplementalRecordUI>C535319</SupplementalRecordUI>
  <SupplementalRecordName><String>Wolfram syndrome 2</String></SupplementalRecordName>
  <ConceptList><Concept PreferredConceptYN="Y"><TermList>
   <Term><String>Wolfram syndrome 2</String></Term>
   <Term><String>WFS2</String></Term>
  </TermList></Concept></ConceptList>
</SupplementalRecord>
<SupplementalRecord SCRClass = "4">
  <SupplementalRecordUI>C000657245</SupplementalRecordUI>
  <SupplementalRecordName><String>SARS-CoV-2 variant</String></SupplementalRecordName>
</SupplementalRecord>
</SupplementalRecordSet>
"#;

/// gene_info's header and three genes: human TP53, mouse Trp53, and a rat gene not asked for.
const GENE_INFO: &str = "#tax_id\tGeneID\tSymbol\tLocusTag\tSynonyms\tdbXrefs\tchromosome\tmap_location\tdescription\ttype_of_gene\tSymbol_from_nomenclature_authority\tFull_name_from_nomenclature_authority\tNomenclature_status\tOther_designations\tModification_date\tFeature_type
9606\t7157\tTP53\t-\tBCC7|BMFS5|LFS1|P53|TRP53\tMIM:191170|HGNC:HGNC:11998|Ensembl:ENSG00000141510\t17\t17p13.1\ttumor protein p53\tprotein-coding\tTP53\ttumor protein p53\tO\tcellular tumor antigen p53|antigen NY-CO-13\t20240101\t-
10090\t22059\tTrp53\t-\tp53|bbl|bfy|bhy|p44\tMGI:MGI:98834|Ensembl:ENSMUSG00000059552\t11\t11 B3\ttransformation related protein 53\tprotein-coding\tTrp53\ttransformation related protein 53\tO\tcellular tumor antigen p53\t20240101\t-
10116\t24842\tTp53\t-\tp53\tRGD:3889\t10\t10q24\ttumor protein p53\tprotein-coding\tTp53\ttumor protein p53\tO\tcellular tumor antigen p53\t20240101\t-
9606\t7124\tTNF\t-\tDIF|TNF-alpha|TNFA|TNFSF2\tMIM:191160\t6\t6p21.33\ttumor necrosis factor\tprotein-coding\tTNF\ttumor necrosis factor\tO\ttumor necrosis factor\t20240101\t-
";

/// names.dmp lines for two taxa, as NCBI writes them (`\t|\t` between fields, `\t|` at the end).
const NAMES_DMP: &str = "9606\t|\thuman\t|\t\t|\tgenbank common name\t|
9606\t|\tHomo sapiens\t|\t\t|\tscientific name\t|
9606\t|\tHomo sapiens Linnaeus, 1758\t|\t\t|\tauthority\t|
10090\t|\tmouse\t|\tmouse <Mus musculus>\t|\tgenbank common name\t|
10090\t|\tMus musculus\t|\t\t|\tscientific name\t|
10090\t|\tMus muscaris\t|\t\t|\tsynonym\t|
10090\t|\tLAB mouse\t|\t\t|\tincludes\t|
";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    if name.ends_with(".gz") {
        let f = std::fs::File::create(&p).unwrap();
        let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        gz.finish().unwrap();
    } else {
        std::fs::write(&p, text).unwrap();
    }
    p
}

fn id(v: &Vocabulary, text: &str, kind: Kind) -> Option<String> {
    v.lookup(text, kind).map(|m| m.concept.id.clone())
}

#[test]
fn mesh_gene_info_and_taxonomy_files_become_one_vocabulary() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("vocab");
    let spec = ImportSpec {
        mesh: vec![
            write(tmp.path(), "desc2026.xml", DESC),
            write(tmp.path(), "supp2026.xml.gz", SUPP),
        ],
        gene_info: vec![write(tmp.path(), "gene_info.gz", GENE_INFO)],
        taxa: vec![9606, 10090],
        taxonomy: vec![write(tmp.path(), "names.dmp", NAMES_DMP)],
        name: "test-vocab".into(),
        out: out.clone(),
        ..Default::default()
    };
    let summary = import(&spec).unwrap();
    // 2 descriptors (Lung is under A), 2 SCRs (the organism is left out), 3 genes, 2 taxa.
    assert_eq!(summary.concepts, 9, "{summary:?}");
    let v = Vocabulary::open(&out).unwrap();
    assert_eq!(v.meta.name, "test-vocab");
    assert_eq!(v.meta.taxa, [9606, 10090]);
    let sources: Vec<(&str, u64)> = v
        .meta
        .sources
        .iter()
        .map(|s| (s.kind.as_str(), s.concepts))
        .collect();
    assert_eq!(
        sources,
        [
            ("mesh-xml", 2),
            ("mesh-xml", 2),
            ("gene-info", 3),
            ("taxonomy-names", 2)
        ]
    );

    // MeSH descriptors: preferred names, entry terms, inverted names both ways, by tree.
    assert_eq!(
        id(&v, "aspirin", Kind::Chemical).as_deref(),
        Some("MESH:D001241")
    );
    assert_eq!(
        id(&v, "acetylsalicylic acid", Kind::Chemical).as_deref(),
        Some("MESH:D001241")
    );
    assert_eq!(id(&v, "aspirin", Kind::Disease), None);
    let m = v
        .lookup("non-small cell lung carcinomas", Kind::Disease)
        .unwrap();
    assert_eq!(m.concept.id, "MESH:D002289");
    assert_eq!(m.concept.name, "Carcinoma, Non-Small-Cell Lung");
    assert_eq!(m.matched, "Non-Small-Cell Lung Carcinoma");
    assert_eq!(
        id(&v, "NSCLC", Kind::Disease).as_deref(),
        Some("MESH:D002289")
    );
    // Names of other records inside a record are not its names.
    assert_eq!(id(&v, "fenofibrate", Kind::Chemical), None);
    assert_eq!(
        id(
            &v,
            "Anti-Inflammatory Agents, Non-Steroidal",
            Kind::Chemical
        ),
        None
    );
    assert_eq!(id(&v, "administration & dosage", Kind::Chemical), None);
    // Anatomy is neither a disease nor a chemical.
    assert_eq!(id(&v, "lung", Kind::Disease), None);

    // Supplementary records: class 1 chemical, class 3 disease.
    assert_eq!(
        id(&v, "WY-14643", Kind::Chemical).as_deref(),
        Some("MESH:C000121")
    );
    assert_eq!(
        id(&v, "WFS2", Kind::Disease).as_deref(),
        Some("MESH:C535319")
    );
    assert_eq!(id(&v, "SARS-CoV-2 variant", Kind::Species), None);

    // Genes of the chosen taxa; a name of both goes to the first taxon.
    assert_eq!(id(&v, "TP53", Kind::Gene).as_deref(), Some("NCBIGene:7157"));
    // A symbol over a synonym: `Trp53` is a synonym of human TP53 and the mouse gene's symbol.
    assert_eq!(
        id(&v, "Trp53", Kind::Gene).as_deref(),
        Some("NCBIGene:22059")
    );
    assert_eq!(id(&v, "p53", Kind::Gene).as_deref(), Some("NCBIGene:7157"));
    assert_eq!(
        id(&v, "TNF-α", Kind::Gene).as_deref(),
        Some("NCBIGene:7124")
    );
    assert_eq!(
        id(&v, "tumor necrosis factor", Kind::Gene).as_deref(),
        Some("NCBIGene:7124")
    );
    assert_eq!(id(&v, "bfy", Kind::Gene).as_deref(), Some("NCBIGene:22059"));
    assert!(v.concepts().iter().all(|c| c.id != "NCBIGene:24842"));
    // ... and not MeSH's.
    assert_eq!(id(&v, "aspirin", Kind::Gene), None);

    // Taxa: scientific and common names and synonyms; not authorities or "includes".
    assert_eq!(
        id(&v, "Homo sapiens", Kind::Species).as_deref(),
        Some("NCBITaxon:9606")
    );
    assert_eq!(
        id(&v, "humans", Kind::Species).as_deref(),
        Some("NCBITaxon:9606")
    );
    assert_eq!(id(&v, "mice", Kind::Species), None, "no irregular plurals");
    assert_eq!(
        id(&v, "mouse", Kind::Species).as_deref(),
        Some("NCBITaxon:10090")
    );
    assert_eq!(
        id(&v, "Mus muscaris", Kind::Species).as_deref(),
        Some("NCBITaxon:10090")
    );
    assert_eq!(id(&v, "LAB mouse", Kind::Species), None);
    assert_eq!(id(&v, "Homo sapiens Linnaeus, 1758", Kind::Species), None);
}

#[test]
fn bad_files_are_refused_with_their_name_and_position() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("vocab");
    let run = |spec: ImportSpec| import(&spec).unwrap_err().to_string();

    let f = write(tmp.path(), "genes.tsv", GENE_INFO);
    let e = run(ImportSpec {
        gene_info: vec![f.clone()],
        out: out.clone(),
        ..Default::default()
    });
    assert!(e.contains("--taxa"), "{e}");

    let f = write(tmp.path(), "short.tsv", "#tax_id\tGeneID\n9606\t1\tA\n");
    let e = run(ImportSpec {
        gene_info: vec![f],
        taxa: vec![9606],
        out: out.clone(),
        ..Default::default()
    });
    assert!(e.contains("short.tsv at line 2"), "{e}");

    let f = write(tmp.path(), "names.dmp", "9606\t|\tHomo sapiens\n");
    let e = run(ImportSpec {
        taxonomy: vec![f],
        out: out.clone(),
        ..Default::default()
    });
    assert!(e.contains("names.dmp at line 1"), "{e}");

    let f = write(
        tmp.path(),
        "desc.xml",
        "<DescriptorRecordSet><DescriptorRecord><DescriptorUI>D1</Descr",
    );
    let e = run(ImportSpec {
        mesh: vec![f],
        out: out.clone(),
        ..Default::default()
    });
    assert!(e.contains("desc.xml at byte"), "{e}");

    let f = write(
        tmp.path(),
        "other.xml",
        "<PubmedArticleSet></PubmedArticleSet>",
    );
    let e = run(ImportSpec {
        mesh: vec![f],
        out: out.clone(),
        ..Default::default()
    });
    assert!(e.contains("not a MeSH XML file"), "{e}");

    let e = run(ImportSpec {
        mesh: vec![tmp.path().join("missing.xml")],
        out,
        ..Default::default()
    });
    assert!(e.contains("missing.xml"), "{e}");
}
