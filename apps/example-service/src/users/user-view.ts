import type { User } from '../schema.js';

/** A user as the API returns it (and as the cache stores it: plain JSON). */
export interface UserView {
  readonly id: number;
  readonly name: string;
  readonly email: string;
  readonly createdAt: string;
}

export function toView(user: User): UserView {
  return { id: user.id, name: user.name, email: user.email, createdAt: user.createdAt.toISOString() };
}
