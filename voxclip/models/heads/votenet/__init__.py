"""VoteNet head parts: seeds, voting, aggregation, proposals, box coder, losses, inference."""
from .aggregation import VoteAggregation
from .box_coder import VoteBoxCoder
from .head import VoteHead
from .proposal import ProposalModule
from .voting import VotingModule

__all__ = ["VoteHead", "VoteBoxCoder", "VotingModule", "VoteAggregation", "ProposalModule"]
