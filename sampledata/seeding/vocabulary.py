"""The words, names, journals and tags synthetic entries are made of: a
domain vocabulary, so search has common and rare words to find."""

import re

from studies.models import StudyType

NON_SLUG = re.compile(r"[^a-z0-9]+")
FIRST_YEAR, LAST_YEAR = 1996, 2025

# The head of the tag vocabulary; further tags are "<topic> <qualifier>".
TOPICS = """Vitamin K2|Bone|Cardiovascular|Calcium|Vitamin D|Osteoporosis|Arterial calcification|
Menaquinone-7|Menaquinone-4|Vitamin K1|Matrix Gla protein|Osteocalcin|Chronic kidney disease|Diabetes|
Dental health|Fractures|Postmenopausal women|Elderly|Children|Pregnancy|Warfarin|Anticoagulation|
Inflammation|Cancer|Liver|Brain|Cognition|Skin|Athletic performance|Mitochondria|Insulin sensitivity|
Vascular stiffness|Aortic valve|Coronary artery disease|Stroke|Hypertension|Dialysis|Natto|Cheese|
Fermented foods|Gut microbiome|Supplements|Dosage|Bioavailability|Diet|Obesity|Metabolic syndrome|
Rheumatoid arthritis|Osteoarthritis|Periodontitis|Prostate|Breast cancer|Hepatocellular carcinoma|
Leukemia|Multiple sclerosis|Parkinson's disease|Alzheimer's disease|Depression|Sleep|Muscle|
Sarcopenia|Frailty|Heart failure|Atrial fibrillation|Peripheral artery disease|Kidney stones|
Calciphylaxis|Pseudoxanthoma elasticum|Cystic fibrosis|Crohn's disease|Ulcerative colitis|
Celiac disease|Bariatric surgery|Vegetarian diet|Vegan diet|Mediterranean diet|Infants|Newborns|
Vitamin K deficiency bleeding|Coagulation|Gamma-carboxylation|Gas6|Protein S|Periostin|GRP|
Vitamin A|Magnesium|Omega-3|Statins|Bisphosphonates|Teriparatide|Calcitriol|Phosphate|
Parathyroid hormone|FGF23|Klotho|Menopause|Testosterone|Estrogen|COVID-19|Lung function|
Immune system|Oxidative stress|Ferroptosis|Apoptosis|Endothelial function|Pulse wave velocity""".split("|")
QUALIFIERS = """in women|in men|in athletes|in older adults|in children|in animals|in vitro|biomarkers|
dose response|safety|mechanisms|imaging|genetics|epidemiology|prevention|treatment|nutrition|
supplementation|outcomes|mortality|risk factors|guidelines|reviews|trials""".split("|")

# Words for titles and abstracts, roughly most to least common; drawn
# long-tail so a search has words on most entries and words on a handful.
WORDS = """vitamin K2 menaquinone supplementation bone calcium arterial vascular calcification
cardiovascular density risk patients women postmenopausal study trial randomized placebo
effect effects association levels serum plasma intake dietary status protein matrix carboxylation
osteocalcin dephosphorylated uncarboxylated inactive MGP dp-ucMGP stiffness pulse wave velocity
mineral fracture hip spine lumbar femoral neck osteoporosis elderly adults children kidney
chronic disease dialysis hemodialysis diabetes insulin glucose inflammation markers cytokines
coronary artery aortic valve progression events mortality cohort follow-up baseline years months
daily dose micrograms MK-7 MK-4 phylloquinone natto cheese fermented dairy bacteria gut
microbiome absorption bioavailability half-life liver coagulation factors warfarin anticoagulant
bleeding safety tolerability adverse outcome primary secondary endpoint significant reduction
increase decrease improvement compared control group intervention treatment analysis meta-analysis
systematic review observational cross-sectional case-control mechanism cells osteoblasts osteoclasts
vascular smooth muscle endothelial mitochondria apoptosis gene expression receptor signaling SXR
Gas6 growth arrest specific periostin Gla-rich GRP cartilage joint osteoarthritis rheumatoid
dental teeth enamel periodontal skin wrinkles elastin brain cognition sphingolipids neurons
myelin depression sleep muscle strength performance athletes cardiac output exercise""".split()
RARE_WORDS = """ferroptosis calciphylaxis pseudoxanthoma elasticum sphingomyelin nattokinase
UBIAD1 VKORC1 GGCX carboxylase epoxide reductase menadione hydroquinone vitamers
chondrocalcinosis hydroxyapatite whitlockite spondylitis xerophthalmia""".split()

FAMILY = """Schurgers Vermeer Knapen Geleijnse Theuwissen Shea Booth Cranenburg Brandenburg Westenfeld
Mandatori Beulens Gast Kurnatowska Ikari Iwamoto Sato Fusaro Zoch Akbulut Lees Hariri Wen Bourgeois
Chen Wang Li Zhang Liu Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Luo Gao
Smith Johnson Williams Brown Jones Miller Davis Garcia Rodriguez Wilson Martinez Anderson Taylor
Thomas Hernandez Moore Martin Jackson Thompson White Lopez Lee Gonzalez Harris Clark Lewis Robinson
Walker Perez Hall Young Allen Sanchez Wright King Scott Green Baker Adams Nelson Hill Ramirez
Campbell Mitchell Roberts Carter Phillips Evans Turner Torres Parker Collins Edwards Stewart Flores
Morris Nguyen Murphy Rivera Cook Rogers Morgan Peterson Cooper Reed Bailey Bell Gomez Kelly Howard
Muller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Rossi Russo Ferrari
Esposito Bianchi Romano Colombo Ricci Marino Greco Tanaka Suzuki Takahashi Watanabe Ito Yamamoto
Nakamura Kobayashi Kato Yoshida Yamada Sasaki Yamaguchi Matsumoto Inoue Kimura Hayashi Shimizu
Jansen Visser Smit Bakker Janssen Dekker Mulder Bos Nielsen Jensen Hansen Pedersen Andersen
Larsen Kowalski Nowak Wisniewski Dubois Durand Leroy Moreau Simon Laurent Lefebvre Michel""".split()
GIVEN = """Leon Cees Marjo Johanna Sarah Martha Rafael Marisa Vincent Thomas Domenico Joline Anna Elke
Ewa Masahiro Yoshiko Tomonori Maria Ludovic Kate Sara Jing Wei Li Ming Xiao Hui Yan Jun Ying
James Mary John Patricia Robert Jennifer Michael Linda David Elizabeth William Barbara Richard
Susan Joseph Jessica Charles Karen Christopher Nancy Daniel Lisa Matthew Betty Anthony Margaret
Mark Sandra Paul Ashley Steven Kimberly Andrew Emily Kenneth Donna Joshua Michelle Kevin Carol
Hans Peter Klaus Ursula Giulia Marco Luca Francesca Hiroshi Yuki Kenji Akiko Jan Pieter Lars
Mette Piotr Agnieszka Pierre Camille Sophie""".split()
JOURNALS = """Nutrients|Journal of Bone and Mineral Research|Osteoporosis International|Atherosclerosis|
American Journal of Clinical Nutrition|Thrombosis and Haemostasis|Journal of Nutrition|Bone|
Nephrology Dialysis Transplantation|Kidney International|European Journal of Nutrition|
Arteriosclerosis, Thrombosis, and Vascular Biology|Calcified Tissue International|
Journal of Clinical Endocrinology and Metabolism|British Journal of Nutrition|PLoS One|
Scientific Reports|Frontiers in Nutrition|International Journal of Molecular Sciences|
Clinical Nutrition|Journal of the American Heart Association|Circulation|Hypertension|Heart|
European Heart Journal|Journal of Hypertension|Diabetes Care|Diabetologia|Maturitas|
Menopause|Journal of Cellular Biochemistry|Biochemical Journal|Journal of Biological Chemistry|
Cell Metabolism|Nature Communications|BMJ Open|The Lancet|JAMA|New England Journal of Medicine|
Annals of Internal Medicine|Food and Function|Molecular Nutrition and Food Research|
Journal of Renal Nutrition|Clinical Journal of the American Society of Nephrology|
Journal of Thrombosis and Haemostasis|Haematologica|Blood|Cancer Research|Oncotarget|
Journal of Periodontology|Journal of Dental Research|Archives of Oral Biology|Neurochemistry International|
Journal of Alzheimer's Disease|Neurology|Medicine and Science in Sports and Exercise|
Journal of the International Society of Sports Nutrition|Aging|Experimental Gerontology|
Vascular Pharmacology|Cardiovascular Research|Journal of Molecular and Cellular Cardiology|
Integrative Medicine|Alternative Medicine Review|Complementary Therapies in Medicine""".split("|")
STUDY_TYPES = [
    (StudyType.RCT, 22),
    (StudyType.COHORT, 18),
    (StudyType.REVIEW, 12),
    (StudyType.CROSS_SECTIONAL, 10),
    (StudyType.ANIMAL, 9),
    (StudyType.IN_VITRO, 8),
    (StudyType.META_ANALYSIS, 5),
    (StudyType.SYSTEMATIC_REVIEW, 4),
    (StudyType.CASE_CONTROL, 4),
    (StudyType.CASE_REPORT, 3),
    (StudyType.COMMENTARY, 2),
    (StudyType.BOOK, 1),
    (StudyType.OTHER, 2),
]
TITLE_PATTERNS = [
    "{A} {b} and {c} in {d}",
    "Effect of {a} on {b} {c}: a {kind}",
    "{A} {b} is associated with {c} {d}",
    "{A} and {b}: {c} {d} in a {kind}",
    "Association between {a} {b} and {c} {d}",
    "{A} {b} {c} reduces {d}",
]
KIND_WORDS = ["randomized trial", "cohort study", "systematic review", "pilot study", "cross-sectional analysis"]


# For a tree of depth 3 (seed_bench --tree 3): each topic named here goes
# under its root topic; a topic named nowhere stays a root.
TOPIC_GROUPS = {
    "Vitamin K2": """Menaquinone-7|Menaquinone-4|Vitamin K1|Natto|Cheese|Fermented foods|Gut microbiome|
Supplements|Dosage|Bioavailability|Gamma-carboxylation|Vitamin K deficiency bleeding""",
    "Bone": """Osteoporosis|Osteocalcin|Fractures|Dental health|Periodontitis|Rheumatoid arthritis|
Osteoarthritis|Muscle|Sarcopenia|Frailty|Bisphosphonates|Teriparatide|Periostin""",
    "Cardiovascular": """Arterial calcification|Matrix Gla protein|Vascular stiffness|Aortic valve|
Coronary artery disease|Stroke|Hypertension|Heart failure|Atrial fibrillation|Peripheral artery disease|
Calciphylaxis|Pseudoxanthoma elasticum|Endothelial function|Pulse wave velocity|Statins|Warfarin|
Anticoagulation|Coagulation|Protein S|Gas6|GRP""",
    "Calcium": """Vitamin D|Magnesium|Phosphate|Parathyroid hormone|FGF23|Klotho|Calcitriol|Vitamin A|Omega-3""",
    "Chronic kidney disease": "Dialysis|Kidney stones",
    "Postmenopausal women": "Elderly|Children|Pregnancy|Infants|Newborns|Menopause|Estrogen|Testosterone",
    "Diabetes": """Insulin sensitivity|Obesity|Metabolic syndrome|Diet|Vegetarian diet|Vegan diet|
Mediterranean diet|Bariatric surgery|Liver|Mitochondria|Athletic performance""",
    "Inflammation": """Cancer|Breast cancer|Prostate|Hepatocellular carcinoma|Leukemia|Immune system|
Oxidative stress|Ferroptosis|Apoptosis|COVID-19|Lung function|Cystic fibrosis|Crohn's disease|
Ulcerative colitis|Celiac disease|Skin""",
    "Brain": "Cognition|Multiple sclerosis|Parkinson's disease|Alzheimer's disease|Depression|Sleep",
}
TOPIC_ROOT = {topic.strip(): root for root, topics in TOPIC_GROUPS.items() for topic in topics.split("|")}
TREE_DEPTHS = (1, 2, 3)


def _named_tags(count):
    """``count`` (name, topic) pairs: the topics (topic None), then
    topic-qualifier pairs and numbered topics (their topic)."""
    topics = [topic.strip() for topic in TOPICS]
    tags = [(topic, None) for topic in topics]
    for qualifier in QUALIFIERS:
        tags += [(f"{topic} {qualifier.strip()}", topic) for topic in topics]
    number = 1
    while len(tags) < count:
        tags += [(f"{topic} topic {number}", topic) for topic in topics]
        number += 1
    return tags[:count]


def tag_names(count):
    """``count`` distinct tag names: the topics, then topic-qualifier pairs."""
    return [name for name, _topic in _named_tags(count)]


def tag_tree(count, depth):
    """{name: parent name} arranging ``tag_names(count)`` in a tree ``depth``
    levels deep: 1 flat (nothing); 2 every "<topic> <qualifier>" under its
    topic; 3 besides, the topics under a handful of root topics
    (TOPIC_GROUPS). A parent missing from the names leaves its children roots."""
    if depth not in TREE_DEPTHS:
        raise ValueError(f"a tree depth is one of {TREE_DEPTHS}")
    tags = _named_tags(count)
    present = {name for name, _topic in tags}
    parents = {}
    for name, topic in tags:
        # A qualified tag goes under its topic from depth 2, a topic under its root at 3.
        parent, needs = (topic, 2) if topic is not None else (TOPIC_ROOT.get(name), 3)
        if depth >= needs and parent in present:
            parents[name] = parent
    return parents


def tag_slug(name):
    return NON_SLUG.sub("-", name.lower().replace("'", "")).strip("-")
