"""Support tool outputs: knowledge articles, tickets and human handoffs."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Article(BaseModel):
    article_id: str
    title: str
    summary: str
    steps: list[str]
    score: float = Field(description="relevance, higher is better")


class Articles(BaseModel):
    articles: list[Article] = Field(description="best match first")


class Ticket(BaseModel):
    ticket_id: str
    category: str
    summary: str
    status: str
    priority: str
    opened_at: str
    repeat_of: str | None = None


class Tickets(BaseModel):
    tickets: list[Ticket] = Field(description="newest first")


class OpenedTicket(BaseModel):
    ticket_id: str
    status: str
    priority: str


class Handoff(BaseModel):
    handoff_id: str
    queue_position: int = Field(description="1 = next to be picked up by a human agent")
