"""The conversation page's forms: a reply as one of the brand's people, and the moderation
decisions (hide, block, close, unblock), each with the reason the public log will show.
Every field is checked here (CSRF included, by Flask-WTF) before the view looks further."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Regexp

from socialads.admin.people import one_line, tidy

TOKEN = Regexp(r"^[A-Za-z0-9_-]{16,64}$", message="Unknown conversation.")
NUMBER = Regexp(r"^[0-9]{1,15}$", message="Unknown message.")
SPEAKER = DataRequired("Choose who speaks.")


class ReplyForm(FlaskForm):
    session = HiddenField(validators=[DataRequired(), TOKEN])
    reply_id = HiddenField(validators=[DataRequired(), Regexp(r"^[A-Za-z0-9_-]{8,64}$")])
    person = SelectField("Reply as", validate_choice=False, validators=[SPEAKER])
    text = TextAreaField(
        "Reply", filters=[tidy], validators=[DataRequired("Write a reply."), Length(max=500)]
    )


class ModerationForm(FlaskForm):
    """What every moderation decision names: who of the brand's people decides, and why (the
    reason goes into the public log)."""

    person = SelectField("As", validate_choice=False, validators=[SPEAKER])
    reason = StringField(
        "Reason, shown in the public log",
        filters=[one_line],
        validators=[DataRequired("Say why: the reason is public."), Length(max=200)],
    )


class HideForm(ModerationForm):
    session = HiddenField(validators=[DataRequired(), TOKEN])
    message = HiddenField(validators=[DataRequired(), NUMBER])


class BlockForm(HideForm):
    pass


class CloseForm(ModerationForm):
    session = HiddenField(validators=[DataRequired(), TOKEN])


class UnblockForm(ModerationForm):
    member = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9a-f]{1,64}$")])
