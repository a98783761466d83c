DROP TABLE "processed_events";
--> statement-breakpoint
CREATE TABLE "welcomed_users" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "welcomed_users_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"user_id" integer NOT NULL,
	"message_id" text NOT NULL,
	"welcomed_at" timestamp with time zone DEFAULT now() NOT NULL
);
