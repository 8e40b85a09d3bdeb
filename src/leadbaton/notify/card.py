"""The context card: everything a rep needs to call a lead without research first."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from leadbaton.leads.models import Inquiry, Lead
from leadbaton.leads.queries import recent_inquiries


def card_for(lead: Lead, *, latest: Inquiry | None = None) -> dict[str, Any]:
    """Who, what they asked, where from, when, what came before, the company, and the link.

    Built when the notification is written and kept with it, so every channel
    shows the lead as it was at that moment. One query for the earlier
    inquiries, none for a lead's first inquiry.
    """
    first_and_only = latest is not None and lead.inquiry_count <= 1
    inquiries = [latest] if first_and_only and latest else list(lead.inquiries.order_by("-received_at", "-id")[:4])
    return _card(lead, inquiries, latest)


def cards_for(leads: list[Lead]) -> dict[int, dict[str, Any]]:
    """card_for of each lead, by lead id, with one query for all their inquiries (the worker tells many at once)."""
    inquiries = recent_inquiries([lead.pk for lead in leads], per_lead=4)
    return {lead.pk: _card(lead, inquiries[lead.pk], None) for lead in leads}


def _card(lead: Lead, inquiries: list[Inquiry], latest: Inquiry | None) -> dict[str, Any]:
    """The card from the lead and its latest inquiries, newest first (up to four)."""
    latest = latest or (inquiries[0] if inquiries else None)
    earlier = [inquiry for inquiry in inquiries if latest is None or inquiry.pk != latest.pk][:3]
    company, guessed = company_of(lead)
    return {
        "lead_id": lead.pk,
        "name": str(lead),
        "title": lead.title,
        "company": company,
        "company_guessed": guessed,
        "company_domain": lead.company_domain,
        "email": lead.email,
        "phone": lead.phone,
        "country": lead.country,
        "city": lead.city,
        "company_size": lead.company_size,
        "score": lead.score,
        "stage": lead.stage,
        "message": latest.message if latest else "",
        "product_interest": (latest.product_interest if latest else "") or lead.product_interest,
        "source": latest.source_slug if latest else lead.source_slug,
        "campaign": (latest.campaign if latest else "") or lead.campaign,
        "utm": {
            "source": latest.utm_source if latest else "",
            "medium": latest.utm_medium if latest else "",
            "campaign": latest.utm_campaign if latest else "",
        },
        "received_at": (latest.received_at if latest else lead.received_at).isoformat(),
        "inquiry_count": lead.inquiry_count,
        "prior_inquiries": [
            {"received_at": inquiry.received_at.isoformat(), "source": inquiry.source_slug, "message": inquiry.message[:300]}
            for inquiry in earlier
        ],
        "link": lead_link(lead.pk),
    }


def company_of(lead: Lead) -> tuple[str, bool]:
    """The company to show for a lead, and whether it was guessed from the domain of a work email."""
    if lead.company:
        return lead.company, False
    return company_from_domain(lead.company_domain), bool(lead.company_domain)


def lead_link(lead_id: int) -> str:
    """The lead's page (web.views.lead_page): whoever may read the lead signs in and sees all of it."""
    return f"{settings.BASE_URL}/leads/{lead_id}/"


SECOND_LEVEL = {"co", "com", "org", "net", "ac", "gov", "edu"}


def company_from_domain(domain: str) -> str:
    """A readable company name from a work email's domain: northwind-traders.co.uk → Northwind Traders."""
    if not domain:
        return ""
    labels = domain.split(".")
    # The name is the label before the public suffix: one label (.com) or two (.co.uk, .com.au).
    two_part_suffix = len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in SECOND_LEVEL
    name = labels[-3] if two_part_suffix else labels[max(len(labels) - 2, 0)]
    return " ".join(part.capitalize() for part in name.replace("_", "-").split("-") if part)


def card_text(card: dict[str, Any]) -> str:
    """The card as plain text: the email body, and the chat message's details."""
    lines = [f"{card['name']}" + (f", {card['title']}" if card["title"] else "") + (f" at {card['company']}" if card["company"] else "")]
    contact = " / ".join(part for part in (card["phone"], card["email"]) if part)
    lines.append(f"Contact: {contact}")
    if card["message"]:
        lines.append(f"Asked: {card['message']}")
    if card["product_interest"]:
        lines.append(f"Interested in: {card['product_interest']}")
    origin = ", ".join(dict.fromkeys(part for part in (card["source"], card["campaign"], *card["utm"].values()) if part))
    lines.append(f"From: {origin}")
    lines.append(f"Score: {card['score']}   Inquiries: {card['inquiry_count']}")
    for prior in card["prior_inquiries"]:
        lines.append(f"Earlier ({prior['received_at'][:16].replace('T', ' ')} via {prior['source']}): {prior['message']}")
    if card["company_guessed"]:
        lines.append(f"Company guessed from the email domain {card['company_domain']}")
    lines.append(card["link"])
    return "\n".join(lines)
