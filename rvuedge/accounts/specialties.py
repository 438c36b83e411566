"""Specialty names: one key for the many spellings (profile text, survey tables, CMS provider types).

The profile owns the vocabulary (accounts sits below benchmarks); benchmarks match their tables to it.

Pure Python. CMS's ``Rndrng_Prvdr_Type`` names are the canonical spelling, because the computed
Medicare benchmarks use them; surveys and users write "Family Medicine", "Orthopedics", "GI" ...
"""

from __future__ import annotations

import re

# alias (lower-case, punctuation-free) -> canonical CMS provider type
ALIASES: dict[str, str] = {
    "family medicine": "Family Practice",
    "family practice": "Family Practice",
    "fm": "Family Practice",
    "internal medicine": "Internal Medicine",
    "im": "Internal Medicine",
    "general internal medicine": "Internal Medicine",
    "pediatrics": "Pediatric Medicine",
    "paediatrics": "Pediatric Medicine",
    "pediatric medicine": "Pediatric Medicine",
    "general pediatrics": "Pediatric Medicine",
    "general surgery": "General Surgery",
    "surgery general": "General Surgery",
    "orthopedics": "Orthopedic Surgery",
    "orthopaedics": "Orthopedic Surgery",
    "orthopedic surgery": "Orthopedic Surgery",
    "orthopaedic surgery": "Orthopedic Surgery",
    "neurosurgery": "Neurosurgery",
    "neurological surgery": "Neurosurgery",
    "gastroenterology": "Gastroenterology",
    "gi": "Gastroenterology",
    "emergency medicine": "Emergency Medicine",
    "em": "Emergency Medicine",
    "hospitalist": "Hospitalist",
    "hospital medicine": "Hospitalist",
    "psychiatry": "Psychiatry",
    "diagnostic radiology": "Diagnostic Radiology",
    "radiology": "Diagnostic Radiology",
    "radiology diagnostic": "Diagnostic Radiology",
    "cardiology": "Cardiology",
    "cardiovascular disease": "Cardiology",
    "cardiovascular disease cardiology": "Cardiology",
    "dermatology": "Dermatology",
    "ophthalmology": "Ophthalmology",
    "urology": "Urology",
    "otolaryngology": "Otolaryngology",
    "ent": "Otolaryngology",
    "anesthesiology": "Anesthesiology",
    "anaesthesiology": "Anesthesiology",
    "obstetrics gynecology": "Obstetrics & Gynecology",
    "obstetrics and gynecology": "Obstetrics & Gynecology",
    "obgyn": "Obstetrics & Gynecology",
    "ob gyn": "Obstetrics & Gynecology",
    "neurology": "Neurology",
    "pulmonary disease": "Pulmonary Disease",
    "pulmonology": "Pulmonary Disease",
    "nephrology": "Nephrology",
    "hematology oncology": "Hematology-Oncology",
    "hematologyoncology": "Hematology-Oncology",
    "medical oncology": "Medical Oncology",
    "physical medicine and rehabilitation": "Physical Medicine and Rehabilitation",
    "pmr": "Physical Medicine and Rehabilitation",
    "pm r": "Physical Medicine and Rehabilitation",
    "nurse practitioner": "Nurse Practitioner",
    "np": "Nurse Practitioner",
    "physician assistant": "Physician Assistant",
    "pa": "Physician Assistant",
}

_PUNCT = re.compile(r"[^a-z0-9]+")


def _plain(name: str) -> str:
    return _PUNCT.sub(" ", name.lower().replace("&", " and ")).strip()


def canonical(name: str) -> str:
    """The canonical display name for a specialty spelling (unknown names are kept, tidied)."""
    plain = _plain(name)
    if plain in ALIASES:
        return ALIASES[plain]
    no_and = plain.replace(" and ", " ")
    if no_and in ALIASES:
        return ALIASES[no_and]
    return " ".join(name.split())


def key(name: str) -> str:
    """Matching key: 'Family Medicine', 'family practice' and 'FM' all give 'family practice'."""
    return _plain(canonical(name)).replace(" and ", " ")[:80]
